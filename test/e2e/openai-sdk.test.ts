/**
 * The pinned `openai` SDK, unmodified but for baseURL and apiKey, against the
 * Worker under wrangler with the mock upstream on 127.0.0.1: Conversations,
 * Responses (conversations, previous_response_id chains and branches, store:false,
 * streaming), Chat Completions, Embeddings and Models, and the SDK's own error
 * classes. Every call under test is an SDK call; the assertions are on what the
 * SDK returns and on what the upstream received.
 */
import OpenAI, { AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "./harness.ts";

type Said = { role: string; content: string };
type Item = OpenAI.Conversations.ConversationItem | OpenAI.Responses.ResponseItem | OpenAI.Responses.ResponseOutputItem;

const MODEL = "@cf/meta/llama-3.1-8b-instruct";
/** The suite's own key and tenant (API_KEYS), so it runs as a deployment with keys would. */
const API_KEY = "sk-e2e-openai-sdk";

let upstream: ServedMock;
let worker: RunningWorker;
let client: OpenAI;
/** Every request the SDK made to the Worker, as `METHOD pathname?query`. */
const sdkRequests: string[] = [];

beforeAll(async () => {
  upstream = await serveMockUpstream();
  worker = await startWorker({ vars: { ...mockUpstreamVars(upstream), API_KEYS: JSON.stringify({ [API_KEY]: "sdk-tenant" }) } });
  client = new OpenAI({
    baseURL: `${worker.url}/v1`,
    apiKey: API_KEY,
    maxRetries: 0,
    timeout: 30_000,
    fetch: async (url, init) => {
      const u = new URL(String(url));
      sdkRequests.push(`${init?.method ?? "GET"} ${u.pathname}${u.search}`);
      return fetch(url, init);
    },
  });
});

afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
});

/** The role and text of a message item (whatever content parts it has). */
function said(item: Item): Said {
  if (item.type !== "message") throw new Error(`not a message item: ${JSON.stringify(item)}`);
  const content = item.content as Array<{ type: string; text?: string }>;
  return { role: item.role, content: content.map((p) => p.text ?? "").join("") };
}

/** The chat requests the upstream received since `from` (an index into chatRequests()). */
function chatRequestsSince(from: number) {
  return upstream.mock.chatRequests().slice(from);
}

/** The role and content of each message the upstream was sent in its only chat request since `from`. */
function promptSentSince(from: number): Said[] {
  const reqs = chatRequestsSince(from);
  expect(reqs, "exactly one upstream chat request").toHaveLength(1);
  return reqs[0]!.body.messages.map((m: Said) => ({ role: m.role, content: m.content }));
}

/** All of a conversation's items, oldest first, through the SDK's auto-pagination. */
async function allItems(conversationId: string): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of client.conversations.items.list(conversationId, { limit: 100, order: "asc" })) {
    items.push(item);
    if (items.length > 1000) throw new Error("the item listing does not end");
  }
  return items;
}

/** The error a call rejects with (fails if it resolves). */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

const echo = (promptLength: number, input: string) => `echo(${promptLength}): ${input}`;

describe("conversations", () => {
  it("creates a conversation with metadata and initial items, retrieves it, replaces its metadata and deletes it", async () => {
    const conv = await client.conversations.create({
      metadata: { topic: "sdk", owner: "e2e" },
      items: [
        { type: "message", role: "system", content: "Be brief." },
        { type: "message", role: "user", content: "Hello there" },
        { role: "assistant", content: "Hi!" },
      ],
    });
    expect(conv).toMatchObject({ object: "conversation", metadata: { topic: "sdk", owner: "e2e" } });
    expect(conv.id).toMatch(/^conv_/);
    expect(Number.isInteger(conv.created_at)).toBe(true);
    expect(Math.abs(conv.created_at - Date.now() / 1000)).toBeLessThan(120);

    expect((await allItems(conv.id)).map(said)).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello there" },
      { role: "assistant", content: "Hi!" },
    ]);

    expect(await client.conversations.retrieve(conv.id)).toEqual(conv);

    const updated = await client.conversations.update(conv.id, { metadata: { topic: "changed", extra: "1" } });
    expect(updated).toEqual({ ...conv, metadata: { topic: "changed", extra: "1" } });
    expect(await client.conversations.retrieve(conv.id)).toEqual(updated);

    const deleted = await client.conversations.delete(conv.id);
    expect(deleted).toEqual({ id: conv.id, object: "conversation.deleted", deleted: true });
    expect(await rejection(client.conversations.retrieve(conv.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.conversations.items.list(conv.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.conversations.items.create(conv.id, { items: [{ role: "user", content: "x" }] })))
      .toBeInstanceOf(NotFoundError);
  });

  it("creates, retrieves and deletes items; a deleted item is gone from the list and from retrieve", async () => {
    const conv = await client.conversations.create({});
    expect(conv.metadata).toEqual({});
    expect(await allItems(conv.id)).toEqual([]);

    const created = await client.conversations.items.create(conv.id, {
      items: [
        { type: "message", role: "user", content: "first" },
        { type: "message", role: "assistant", content: "second" },
        { type: "message", role: "user", content: [{ type: "input_text", text: "thi" }, { type: "input_text", text: "rd" }] },
      ],
    });
    expect(created.object).toBe("list");
    expect(created.data.map(said)).toEqual([
      { role: "user", content: "first" }, { role: "assistant", content: "second" }, { role: "user", content: "third" },
    ]);
    expect(created.first_id).toBe(created.data[0]!.id);
    expect(created.last_id).toBe(created.data[2]!.id);
    expect(created.has_more).toBe(false);
    const ids = created.data.map((i) => (i as { id: string }).id);
    expect(new Set(ids).size).toBe(3);
    for (const item of created.data) expect(item).toMatchObject({ type: "message", status: "completed" });

    const second = await client.conversations.items.retrieve(ids[1]!, { conversation_id: conv.id });
    expect(second).toEqual(created.data[1]);
    // `include` (extra fields such as logprobs) is accepted; there is nothing extra for plain text.
    const withInclude = await client.conversations.items.list(conv.id, { order: "asc", include: ["message.output_text.logprobs"] });
    expect(withInclude.data).toEqual(created.data);

    const afterDelete = await client.conversations.items.delete(ids[1]!, { conversation_id: conv.id });
    expect(afterDelete).toMatchObject({ id: conv.id, object: "conversation" });
    expect(await rejection(client.conversations.items.retrieve(ids[1]!, { conversation_id: conv.id }))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.conversations.items.delete(ids[1]!, { conversation_id: conv.id }))).toBeInstanceOf(NotFoundError);
    expect((await allItems(conv.id)).map(said)).toEqual([{ role: "user", content: "first" }, { role: "user", content: "third" }]);
  });

  it("auto-paginates 250 items 20 at a time in both orders: every item once, in order, one request per page", async () => {
    const conv = await client.conversations.create({ metadata: { size: "250" } });
    const texts = Array.from({ length: 250 }, (_, i) => `item ${String(i).padStart(3, "0")}`);
    for (let i = 0; i < texts.length; i += 20) {
      const batch = texts.slice(i, i + 20);
      const page = await client.conversations.items.create(conv.id, {
        items: batch.map((text, j) => ({ type: "message" as const, role: (i + j) % 2 ? "assistant" as const : "user" as const, content: text })),
      });
      expect(page.data.map((d) => said(d).content)).toEqual(batch);
    }

    for (const order of ["asc", "desc"] as const) {
      const before = sdkRequests.length;
      const seen: Item[] = [];
      for await (const item of client.conversations.items.list(conv.id, { limit: 20, order })) {
        seen.push(item);
        if (seen.length > 300) break; // bounded: a cursor that never ends must not hang the test
      }
      const expected = order === "asc" ? texts : [...texts].reverse();
      expect(seen.map((i) => said(i).content), order).toEqual(expected);
      expect(seen.map((i) => said(i).role)).toEqual(expected.map((t) => (Number(t.slice(5)) % 2 ? "assistant" : "user")));
      expect(new Set(seen.map((i) => (i as { id: string }).id)).size).toBe(250);
      const pages = sdkRequests.slice(before).filter((r) => r.startsWith(`GET /v1/conversations/${conv.id}/items`));
      expect(pages, `${order}: ceil(250 / 20) pages, the last with has_more false`).toHaveLength(13);
    }

    // OpenAI lists conversation items newest first by default.
    const first = await client.conversations.items.list(conv.id, { limit: 20 });
    expect(first.data.map((i) => said(i).content)).toEqual([...texts].reverse().slice(0, 20));
    expect(first.has_more).toBe(true);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((i) => said(i).content)).toEqual([...texts].reverse().slice(20, 40));
  });
});

describe("responses in a conversation", () => {
  it("sends exactly the conversation's items as history, then appends the input and the output to the conversation", async () => {
    const conv = await client.conversations.create({
      items: [
        { type: "message", role: "user", content: "My name is Ada." },
        { type: "message", role: "assistant", content: "Hello, Ada." },
        { type: "message", role: "user", content: "This one will be deleted." },
      ],
    });
    const toDelete = (await allItems(conv.id))[2] as { id: string };
    await client.conversations.items.delete(toDelete.id, { conversation_id: conv.id });
    await client.conversations.items.create(conv.id, { items: [{ type: "message", role: "assistant", content: "Anything else?" }] });
    const history = (await allItems(conv.id)).map(said);
    expect(history).toHaveLength(3);

    const from = upstream.mock.chatRequests().length;
    const input = "What is my name?";
    const r = await client.responses.create({ model: MODEL, conversation: conv.id, input, temperature: 0.25, max_output_tokens: 64 });
    const prompt = [...history, { role: "user", content: input }];
    expect(promptSentSince(from)).toEqual(prompt);
    const sent = chatRequestsSince(from)[0]!.body;
    expect(sent).toMatchObject({ model: MODEL, temperature: 0.25, max_tokens: 64 });

    expect(r).toMatchObject({
      object: "response", status: "completed", model: MODEL, conversation: { id: conv.id }, previous_response_id: null,
      store: true, temperature: 0.25, max_output_tokens: 64, error: null, instructions: null,
    });
    expect(r.id).toMatch(/^resp_/);
    expect(r.output_text).toBe(echo(prompt.length, input));
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(said(r.output[0]!)).toEqual({ role: "assistant", content: r.output_text });

    const after = await allItems(conv.id);
    expect(after.map(said)).toEqual([...history, { role: "user", content: input }, { role: "assistant", content: r.output_text }]);
    expect((after.at(-1) as { id: string }).id).toBe(r.output[0]!.id);

    // A conversation given as {id} works the same, and the next response sees the previous one.
    const from2 = upstream.mock.chatRequests().length;
    const r2 = await client.responses.create({ model: MODEL, conversation: { id: conv.id }, input: "And again?" });
    const prompt2 = [...after.map(said), { role: "user", content: "And again?" }];
    expect(promptSentSince(from2)).toEqual(prompt2);
    expect(r2.output_text).toBe(echo(prompt2.length, "And again?"));
    expect((await allItems(conv.id)).map(said)).toEqual([...prompt2, { role: "assistant", content: r2.output_text }]);

    // Stored like any response.
    expect(await client.responses.retrieve(r.id)).toEqual(r);
    const inputItems: Item[] = [];
    for await (const item of client.responses.inputItems.list(r.id)) inputItems.push(item);
    expect(inputItems.map(said)).toEqual([{ role: "user", content: input }]);

    // Deleting a response does not touch the conversation it was added to.
    const itemsNow = (await allItems(conv.id)).map(said);
    await client.responses.delete(r.id);
    expect(await rejection(client.responses.retrieve(r.id))).toBeInstanceOf(NotFoundError);
    expect((await allItems(conv.id)).map(said)).toEqual(itemsNow);
  });

  it("sends a response's instructions first, and neither stores them as an item nor carries them to the next response", async () => {
    const conv = await client.conversations.create({ items: [{ type: "message", role: "user", content: "Earlier" }] });
    const from = upstream.mock.chatRequests().length;
    const r = await client.responses.create({ model: MODEL, conversation: conv.id, instructions: "Answer in French.", input: "Hi" });
    expect(promptSentSince(from)).toEqual([
      { role: "system", content: "Answer in French." }, { role: "user", content: "Earlier" }, { role: "user", content: "Hi" },
    ]);
    expect(r.instructions).toBe("Answer in French.");
    expect((await allItems(conv.id)).map(said)).toEqual([
      { role: "user", content: "Earlier" }, { role: "user", content: "Hi" }, { role: "assistant", content: r.output_text },
    ]);

    const from2 = upstream.mock.chatRequests().length;
    const r2 = await client.responses.create({ model: MODEL, conversation: conv.id, input: "Again" });
    expect(promptSentSince(from2).map((m) => m.role)).not.toContain("system");
    expect(r2.instructions).toBeNull();
  });
});

describe("responses chained with previous_response_id", () => {
  it("a chain of 5 sends each response exactly its ancestors' inputs and outputs, in order", async () => {
    const history: Said[] = [];
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) {
      const input = `message number ${n}`;
      const from = upstream.mock.chatRequests().length;
      const r = await client.responses.create({ model: MODEL, input, ...(ids.length ? { previous_response_id: ids.at(-1)! } : {}) });
      const prompt = [...history, { role: "user", content: input }];
      expect(promptSentSince(from), `response ${n}`).toEqual(prompt);
      expect(r.output_text).toBe(echo(prompt.length, input));
      expect(r.previous_response_id).toBe(ids.at(-1) ?? null);
      expect(r.conversation ?? null).toBeNull();
      history.push({ role: "user", content: input }, { role: "assistant", content: r.output_text });
      ids.push(r.id);
    }
    expect(new Set(ids).size).toBe(5);
    for (const [i, id] of ids.entries()) {
      const r = await client.responses.retrieve(id);
      expect(r.output_text).toBe(history[2 * i + 1]!.content);
      expect(r.previous_response_id).toBe(ids[i - 1] ?? null);
    }
  });

  it("branches: two responses continuing the same one each see only their own branch", async () => {
    const root = await client.responses.create({ model: MODEL, input: "root" });
    const left = await client.responses.create({ model: MODEL, previous_response_id: root.id, input: "left" });
    const right = await client.responses.create({ model: MODEL, previous_response_id: root.id, input: "right" });
    const base = [{ role: "user", content: "root" }, { role: "assistant", content: root.output_text }];
    expect(left.output_text).toBe(echo(3, "left"));
    expect(right.output_text).toBe(echo(3, "right"));

    let from = upstream.mock.chatRequests().length;
    await client.responses.create({ model: MODEL, previous_response_id: left.id, input: "left again" });
    expect(promptSentSince(from)).toEqual([
      ...base, { role: "user", content: "left" }, { role: "assistant", content: left.output_text }, { role: "user", content: "left again" },
    ]);

    from = upstream.mock.chatRequests().length;
    await client.responses.create({ model: MODEL, previous_response_id: right.id, input: "right again" });
    expect(promptSentSince(from)).toEqual([
      ...base, { role: "user", content: "right" }, { role: "assistant", content: right.output_text }, { role: "user", content: "right again" },
    ]);
  });

  it("instructions apply to their own response only: the next response in the chain is sent none", async () => {
    let from = upstream.mock.chatRequests().length;
    const first = await client.responses.create({ model: MODEL, instructions: "You are a pirate.", input: "Ahoy" });
    expect(promptSentSince(from)).toEqual([{ role: "system", content: "You are a pirate." }, { role: "user", content: "Ahoy" }]);
    expect(first.instructions).toBe("You are a pirate.");

    from = upstream.mock.chatRequests().length;
    const second = await client.responses.create({ model: MODEL, previous_response_id: first.id, input: "Still there?" });
    expect(promptSentSince(from)).toEqual([
      { role: "user", content: "Ahoy" }, { role: "assistant", content: first.output_text }, { role: "user", content: "Still there?" },
    ]);
    expect(second.instructions).toBeNull();

    from = upstream.mock.chatRequests().length;
    const third = await client.responses.create({ model: MODEL, previous_response_id: second.id, instructions: "Now a poet.", input: "Go" });
    expect(promptSentSince(from)).toEqual([
      { role: "system", content: "Now a poet." },
      { role: "user", content: "Ahoy" }, { role: "assistant", content: first.output_text },
      { role: "user", content: "Still there?" }, { role: "assistant", content: second.output_text },
      { role: "user", content: "Go" },
    ]);
    expect(third.instructions).toBe("Now a poet.");
  });
});

describe("responses: more of what OpenAI's API does", () => {
  it("a response continuing a conversation's response by previous_response_id is not added to that conversation", async () => {
    const conv = await client.conversations.create({ items: [{ type: "message", role: "user", content: "In the conversation" }] });
    const inConv = await client.responses.create({ model: MODEL, conversation: conv.id, input: "first" });
    const itemsBefore = (await allItems(conv.id)).map(said);
    expect(itemsBefore).toHaveLength(3);

    const from = upstream.mock.chatRequests().length;
    const next = await client.responses.create({ model: MODEL, previous_response_id: inConv.id, input: "outside" });
    // The previous response's input and output come right before the new input.
    expect(promptSentSince(from).slice(-3)).toEqual([
      { role: "user", content: "first" }, { role: "assistant", content: inConv.output_text }, { role: "user", content: "outside" },
    ]);
    expect(next.previous_response_id).toBe(inConv.id);
    expect(next.conversation ?? null).toBeNull();
    // Only a response created with `conversation` adds its input and output to it (the SDK's doc of that parameter).
    expect.soft((await allItems(conv.id)).map(said)).toEqual(itemsBefore);

    // Nor is it in the history of the conversation's next response.
    const from2 = upstream.mock.chatRequests().length;
    await client.responses.create({ model: MODEL, conversation: conv.id, input: "back inside" });
    expect.soft(promptSentSince(from2)).toEqual([...itemsBefore, { role: "user", content: "back inside" }]);
  });

  it("keeps metadata and reports usage; a reply cut by max_output_tokens is incomplete", async () => {
    const r = await client.responses.create({ model: MODEL, input: "count my words", metadata: { run: "e2e" } });
    expect(r.metadata).toEqual({ run: "e2e" });
    expect((await client.responses.retrieve(r.id)).metadata).toEqual({ run: "e2e" });
    expect(r.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
    expect(r.usage!.output_tokens).toBeGreaterThan(0);

    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    const cut = await client.responses.create({ model: MODEL, input: long, max_output_tokens: 16 });
    expect(cut.status).toBe("incomplete");
    expect(cut.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(cut.output_text.length).toBeGreaterThan(0);
    expect(echo(1, long).startsWith(cut.output_text)).toBe(true);
  });

  it("manages state by hand: a previous response's output items sent back as input are the history", async () => {
    const first = await client.responses.create({ model: MODEL, input: "hand-managed", store: false });
    const from = upstream.mock.chatRequests().length;
    const second = await client.responses.create({
      model: MODEL, store: false,
      input: [{ role: "user", content: "hand-managed" }, ...first.output as OpenAI.Responses.ResponseInputItem[], { role: "user", content: "and then?" }],
    });
    expect(promptSentSince(from)).toEqual([
      { role: "user", content: "hand-managed" }, { role: "assistant", content: first.output_text }, { role: "user", content: "and then?" },
    ]);
    expect(second.output_text).toBe(echo(3, "and then?"));
  });
});

describe("responses with store: false", () => {
  it("answers without storing anything: retrieve is NotFoundError and it cannot be continued", async () => {
    const from = upstream.mock.chatRequests().length;
    const r = await client.responses.create({ model: MODEL, input: "Do not keep this", store: false });
    expect(promptSentSince(from)).toEqual([{ role: "user", content: "Do not keep this" }]);
    expect(r).toMatchObject({ object: "response", status: "completed", store: false, output_text: echo(1, "Do not keep this") });
    expect(await rejection(client.responses.retrieve(r.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.responses.inputItems.list(r.id))).toBeInstanceOf(NotFoundError);
    const continued = await rejection(client.responses.create({ model: MODEL, previous_response_id: r.id, input: "More" }));
    expect(continued).toBeInstanceOf(BadRequestError);
    expect((continued as BadRequestError).param).toBe("previous_response_id");
  });

  it("in a conversation, uses its items as history but does not grow it", async () => {
    const conv = await client.conversations.create({ items: [{ type: "message", role: "user", content: "Remember 42." }] });
    const before = (await allItems(conv.id)).map(said);
    const from = upstream.mock.chatRequests().length;
    const r = await client.responses.create({ model: MODEL, conversation: conv.id, input: "What number?", store: false });
    expect(promptSentSince(from)).toEqual([...before, { role: "user", content: "What number?" }]);
    expect(r.output_text).toBe(echo(2, "What number?"));
    expect(r).toMatchObject({ store: false });
    expect((await allItems(conv.id)).map(said)).toEqual(before);
    expect(await rejection(client.responses.retrieve(r.id))).toBeInstanceOf(NotFoundError);
  });

  it("continuing a stored response, sees the chain but leaves no trace in it", async () => {
    const stored = await client.responses.create({ model: MODEL, input: "kept" });
    let from = upstream.mock.chatRequests().length;
    const ephemeral = await client.responses.create({ model: MODEL, previous_response_id: stored.id, input: "not kept", store: false });
    const base = [{ role: "user", content: "kept" }, { role: "assistant", content: stored.output_text }];
    expect(promptSentSince(from)).toEqual([...base, { role: "user", content: "not kept" }]);
    expect(ephemeral.previous_response_id).toBe(stored.id);
    expect(await rejection(client.responses.retrieve(ephemeral.id))).toBeInstanceOf(NotFoundError);

    from = upstream.mock.chatRequests().length;
    await client.responses.create({ model: MODEL, previous_response_id: stored.id, input: "next" });
    expect(promptSentSince(from)).toEqual([...base, { role: "user", content: "next" }]);
  });
});

describe("streaming responses", () => {
  it("stream: true yields the Responses events; the deltas make the text of response.completed and of the stored response", async () => {
    const conv = await client.conversations.create({ items: [{ type: "message", role: "user", content: "Context line" }] });
    const input = "please stream these several words back";
    const from = upstream.mock.chatRequests().length;
    const stream = await client.responses.create({ model: MODEL, conversation: conv.id, input, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
      if (events.length > 500) break;
    }
    expect(promptSentSince(from)).toEqual([{ role: "user", content: "Context line" }, { role: "user", content: input }]);

    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    const nDeltas = types.filter((t) => t === "response.output_text.delta").length;
    expect(types).toEqual([
      "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
      ...Array<string>(nDeltas).fill("response.output_text.delta"),
      "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
    ]);
    const created = events[0]!;
    if (created.type === "response.created") {
      // As OpenAI streams it: the response exists, is in progress, and has no output yet.
      expect.soft(created.response).toMatchObject({ status: "in_progress", output: [], conversation: { id: conv.id } });
    }
    const added = events.find((e) => e.type === "response.output_item.added");
    expect(added && "item" in added ? added.item : undefined).toMatchObject({ type: "message", role: "assistant", status: "in_progress" });
    const itemDone = events.find((e) => e.type === "response.output_item.done");
    const completed = events.at(-1)!;
    expect(completed.type).toBe("response.completed");
    if (completed.type !== "response.completed") return;
    const deltas = events.filter((e): e is OpenAI.Responses.ResponseTextDeltaEvent => e.type === "response.output_text.delta");
    expect(deltas.length).toBeGreaterThan(3);
    const text = deltas.map((d) => d.delta).join("");
    expect(text).toBe(echo(2, input));

    const response = completed.response;
    expect(response).toMatchObject({ status: "completed", conversation: { id: conv.id }, store: true });
    expect(response.output).toHaveLength(1);
    expect(said(response.output[0]!)).toEqual({ role: "assistant", content: text });
    for (const d of deltas) expect(d.item_id).toBe(response.output[0]!.id);
    const done = events.find((e) => e.type === "response.output_text.done");
    expect(done && "text" in done ? done.text : undefined).toBe(text);
    expect(itemDone && "item" in itemDone ? itemDone.item : undefined).toEqual(response.output[0]);

    const stored = await client.responses.retrieve(response.id);
    expect(stored.output_text).toBe(text);
    expect(stored.output).toEqual(response.output);
    expect((await allItems(conv.id)).map(said)).toEqual([
      { role: "user", content: "Context line" }, { role: "user", content: input }, { role: "assistant", content: text },
    ]);
  });

  it("client.responses.stream(): output_text.delta events add up to finalResponse() and to the response.completed event", async () => {
    const first = await client.responses.create({ model: MODEL, input: "start" });
    const input = "continue with a streamed answer please";
    const from = upstream.mock.chatRequests().length;
    const stream = client.responses.stream({ model: MODEL, previous_response_id: first.id, input });
    const deltas: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
    stream.on("response.completed", (e) => (completed = e.response));
    const final = await stream.finalResponse();
    expect(promptSentSince(from)).toEqual([
      { role: "user", content: "start" }, { role: "assistant", content: first.output_text }, { role: "user", content: input },
    ]);

    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe(echo(3, input));
    expect(final.output_text).toBe(deltas.join(""));
    expect(completed).toBeDefined();
    expect(final.id).toBe(completed!.id);
    // finalResponse() is a ParsedResponse: its text parts carry `parsed` besides what came over the wire.
    expect(final.output).toMatchObject(completed!.output);
    expect(final).toMatchObject({ status: "completed", previous_response_id: first.id, store: true });

    const stored = await client.responses.retrieve(final.id);
    expect(stored.output_text).toBe(final.output_text);
    expect(final.output).toMatchObject(stored.output);
  });

  it("an upstream stream cut mid-reply ends the stream with response.failed, and the stored response is failed", async () => {
    upstream.mock.fail({ kind: "cut", afterChunks: 2 });
    const stream = await client.responses.create({ model: MODEL, input: "this reply will be cut short", stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
      if (events.length > 500) break;
    }
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]!.type).toBe("response.created");
    const last = events.at(-1)!;
    expect(last.type).toBe("response.failed");
    if (last.type !== "response.failed") return;
    expect(last.response.status).toBe("failed");
    expect(last.response.error).toMatchObject({ message: expect.any(String) });
    const stored = await client.responses.retrieve(last.response.id);
    expect(stored.status).toBe("failed");
  });

  it("client.responses.stream() with store: false streams the same way and stores nothing", async () => {
    const stream = client.responses.stream({ model: MODEL, input: "an ephemeral streamed reply", store: false });
    const deltas: string[] = [];
    stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join("")).toBe(echo(1, "an ephemeral streamed reply"));
    expect(final.output_text).toBe(deltas.join(""));
    expect(final).toMatchObject({ store: false });
    expect(await rejection(client.responses.retrieve(final.id))).toBeInstanceOf(NotFoundError);
  });
});

describe("responses.retrieve, inputItems.list and delete", () => {
  it("lists a response's input items (newest first by default) and, once deleted, the response is NotFoundError", async () => {
    const r = await client.responses.create({
      model: MODEL,
      input: [
        { type: "message", role: "developer", content: "Reply in capitals." },
        { type: "message", role: "user", content: "one" },
        { type: "message", role: "user", content: [{ type: "input_text", text: "two" }] },
      ],
    });
    expect(await client.responses.retrieve(r.id)).toEqual(r);

    const desc: Item[] = [];
    for await (const item of client.responses.inputItems.list(r.id)) desc.push(item);
    expect(desc.map(said)).toEqual([
      { role: "user", content: "two" }, { role: "user", content: "one" }, { role: "developer", content: "Reply in capitals." },
    ]);
    const asc: Item[] = [];
    for await (const item of client.responses.inputItems.list(r.id, { order: "asc", limit: 1 })) {
      asc.push(item);
      if (asc.length > 10) break;
    }
    expect(asc.map(said)).toEqual([...desc].reverse().map(said));

    await client.responses.delete(r.id);
    expect(await rejection(client.responses.retrieve(r.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.responses.inputItems.list(r.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.responses.delete(r.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.responses.create({ model: MODEL, previous_response_id: r.id, input: "more" })))
      .toBeInstanceOf(BadRequestError);
  });
});

describe("the stateless surface", () => {
  it("chat.completions.create passes the request to the upstream and its answer back", async () => {
    const from = upstream.mock.chatRequests().length;
    const messages = [{ role: "system" as const, content: "Be nice." }, { role: "user" as const, content: "Hello upstream" }];
    const completion = await client.chat.completions.create({ model: MODEL, messages, temperature: 0.5 });
    expect(promptSentSince(from)).toEqual(messages);
    expect(chatRequestsSince(from)[0]!.body).toMatchObject({ model: MODEL, temperature: 0.5 });
    expect(completion).toMatchObject({ object: "chat.completion", model: MODEL });
    expect(completion.choices[0]!.message).toMatchObject({ role: "assistant", content: echo(2, "Hello upstream") });
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });

  it("chat.completions.create with stream: true yields chunks whose deltas make the reply", async () => {
    const from = upstream.mock.chatRequests().length;
    const stream = await client.chat.completions.create({
      model: MODEL, messages: [{ role: "user", content: "stream me a few words" }], stream: true, stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      if (chunks.length > 500) break;
    }
    expect(promptSentSince(from)).toEqual([{ role: "user", content: "stream me a few words" }]);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe(echo(1, "stream me a few words"));
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "stop")).toBe(true);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });

  it("embeddings.create returns one vector per input, in float (explicit) and default encoding", async () => {
    const before = upstream.mock.requests.length;
    const floats = await client.embeddings.create({ model: "@cf/baai/bge-small-en-v1.5", input: ["a", "bb"], encoding_format: "float" });
    expect(floats.object).toBe("list");
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    expect(floats.data.map((d) => d.embedding)).toEqual([[0.01, 0.5, -0.25], [0.02, 0.5, -0.25]]);
    const sent = upstream.mock.requests.slice(before).filter((r) => r.path.endsWith("/embeddings"));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ model: "@cf/baai/bge-small-en-v1.5", input: ["a", "bb"], encoding_format: "float" });

    const byDefault = await client.embeddings.create({ model: "@cf/baai/bge-small-en-v1.5", input: "abc" });
    expect(byDefault.data).toHaveLength(1);
    expect(Array.from(byDefault.data[0]!.embedding)).toEqual([0.03, 0.5, -0.25]);
  });

  it("models.list lists the served models, the default model among them", async () => {
    const models: OpenAI.Models.Model[] = [];
    for await (const m of client.models.list()) {
      models.push(m);
      if (models.length > 100) break;
    }
    expect(models.map((m) => m.id)).toContain(MODEL);
    for (const m of models) expect(m).toMatchObject({ object: "model", id: expect.any(String), owned_by: expect.any(String) });
    expect(new Set(models.map((m) => m.id)).size).toBe(models.length);
  });
});

describe("errors are the SDK's own classes", () => {
  it("a key the deployment does not know is AuthenticationError", async () => {
    const stranger = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: "sk-not-a-configured-key", maxRetries: 0, timeout: 30_000 });
    const err = await rejection(stranger.conversations.create({}));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(401);
  });

  it("an unknown conversation is NotFoundError, for conversations and for responses.create, and nothing is created", async () => {
    const unknown = "conv_does_not_exist_0123456789";
    const from = upstream.mock.chatRequests().length;
    const retrieved = await rejection(client.conversations.retrieve(unknown));
    expect(retrieved).toBeInstanceOf(NotFoundError);
    expect((retrieved as NotFoundError).status).toBe(404);
    expect(await rejection(client.conversations.update(unknown, { metadata: { a: "b" } }))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.conversations.delete(unknown))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.conversations.items.list(unknown))).toBeInstanceOf(NotFoundError);

    const responded = await rejection(client.responses.create({ model: MODEL, conversation: unknown, input: "hello?" }));
    expect(responded).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.responses.create({ model: MODEL, conversation: unknown, input: "hello?", stream: true })))
      .toBeInstanceOf(NotFoundError);
    expect(chatRequestsSince(from)).toHaveLength(0);
    expect(await rejection(client.conversations.retrieve(unknown))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.responses.retrieve("resp_nothing_here"))).toBeInstanceOf(NotFoundError);
  });

  it("an upstream failure is InternalServerError (502), an upstream rate limit RateLimitError (429), and the next response works", async () => {
    upstream.mock.fail({ kind: "status", status: 500 });
    const failed = await rejection(client.responses.create({ model: MODEL, input: "will fail" }));
    expect(failed).toBeInstanceOf(InternalServerError);
    expect((failed as InternalServerError).status).toBe(502);

    upstream.mock.fail({ kind: "cloudflare", status: 429, code: 3040, message: "Capacity temporarily exceeded", headers: { "retry-after": "7" } });
    const limited = await rejection(client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get("retry-after")).toBe("7");

    const ok = await client.responses.create({ model: MODEL, input: "works again" });
    expect(ok.output_text).toBe(echo(1, "works again"));
  });

  it("bad parameters are BadRequestError, and nothing reaches the upstream", async () => {
    const conv = await client.conversations.create({});
    const prev = await client.responses.create({ model: MODEL, input: "a response to point at" });
    const from = upstream.mock.chatRequests().length;

    const hot = await rejection(client.responses.create({ model: MODEL, input: "x", temperature: 5 }));
    expect(hot).toBeInstanceOf(BadRequestError);
    expect((hot as BadRequestError).status).toBe(400);
    expect((hot as BadRequestError).param).toBe("temperature");

    const both = await rejection(client.responses.create({ model: MODEL, input: "x", conversation: conv.id, previous_response_id: prev.id }));
    expect(both).toBeInstanceOf(BadRequestError);

    const unknownField = await rejection(client.responses.create(
      { model: MODEL, input: "x", not_a_parameter: true } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming,
    ));
    expect(unknownField).toBeInstanceOf(BadRequestError);
    expect((unknownField as BadRequestError).message).toContain("not_a_parameter");

    expect(await rejection(client.conversations.create(
      { metadata: {}, colour: "blue" } as unknown as OpenAI.Conversations.ConversationCreateParams,
    ))).toBeInstanceOf(BadRequestError);
    expect(await rejection(client.responses.create({ model: MODEL, input: "x", previous_response_id: "resp_unknown" })))
      .toBeInstanceOf(BadRequestError);
    const tooMany = Array.from({ length: 21 }, (_, i) => ({ type: "message" as const, role: "user" as const, content: `n${i}` }));
    expect(await rejection(client.conversations.items.create(conv.id, { items: tooMany }))).toBeInstanceOf(BadRequestError);
    expect(await rejection(client.conversations.items.list(conv.id, { limit: 1000 }))).toBeInstanceOf(BadRequestError);

    expect(chatRequestsSince(from)).toHaveLength(0);
    expect(await allItems(conv.id)).toEqual([]);
  });
});
