import { describe, expect, it } from "vitest";
import { api, errorOf, post, SseReader, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

describe("POST /v1/conversations and items", () => {
  it("creates a conversation with items, and the same ID works as a thread with the same messages", async () => {
    const c = await api("POST", "/v1/conversations", { metadata: { topic: "x" }, items: [
      { type: "message", role: "user", content: "hello" },
      { role: "developer", content: [{ type: "input_text", text: "be nice" }] },
    ] });
    expect(c.status).toBe(200);
    expect(c.body).toEqual({ id: expect.stringMatching(/^conv_/), object: "conversation", created_at: expect.any(Number), metadata: { topic: "x" } });
    const items = await api("GET", `/v1/conversations/${c.body.id}/items?order=asc`);
    expect(items.body.data).toEqual([
      { type: "message", id: expect.stringMatching(/^msg_/), status: "completed", role: "user", content: [{ type: "input_text", text: "hello" }] },
      { type: "message", id: expect.any(String), status: "completed", role: "developer", content: [{ type: "input_text", text: "be nice" }] },
    ]);
    const msgs = await api("GET", `/v1/threads/${c.body.id}/messages`);
    expect(msgs.body.data.map((m: any) => [m.role, m.content])).toEqual([["user", "hello"], ["system", "be nice"]]);
    // An item's ID is its message's ID plus the conversation it lives in (so an item_reference finds it
    // with no chain: README "Item IDs"); either ID names the same message on both surfaces.
    expect(items.body.data[0].id.startsWith(`${msgs.body.data[0].id}_`)).toBe(true);
    expect((await api("GET", `/v1/threads/${c.body.id}/messages/${items.body.data[1].id}`)).body.id).toBe(msgs.body.data[1].id);
    expect((await api("GET", `/v1/conversations/${c.body.id}/items/${msgs.body.data[0].id}`)).body.id).toBe(items.body.data[0].id);
  });

  it("lists items newest first by default, deletes one answering with the conversation", async () => {
    const c = (await api("POST", "/v1/conversations", {})).body;
    const added = await api("POST", `/v1/conversations/${c.id}/items`, { items: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }] });
    expect(added.body).toMatchObject({ object: "list", has_more: false });
    expect(added.body.data[1].content).toEqual([{ type: "output_text", text: "b", annotations: [], logprobs: [] }]);
    const list = await api("GET", `/v1/conversations/${c.id}/items`);
    expect(list.body.data.map((i: any) => i.content[0].text)).toEqual(["b", "a"]);
    const del = await api("DELETE", `/v1/conversations/${c.id}/items/${added.body.data[0].id}`);
    expect(del.body).toEqual(c);
    expect((await api("GET", `/v1/conversations/${c.id}/items/${added.body.data[0].id}`)).status).toBe(404);
  });

  it("refuses more than 20 items per call and unsupported content, storing nothing", async () => {
    const c = (await api("POST", "/v1/conversations", {})).body;
    const many = Array.from({ length: 21 }, () => ({ role: "user", content: "x" }));
    expect((await api("POST", `/v1/conversations/${c.id}/items`, { items: many })).status).toBe(400);
    const img = await api("POST", `/v1/conversations/${c.id}/items`, { items: [{ role: "user", content: [{ type: "input_image", image_url: "x" }] }] });
    expect(img.status).toBe(400);
    expect((await api("GET", `/v1/conversations/${c.id}/items`)).body.data).toEqual([]);
  });

  it("updates metadata and deletes the conversation", async () => {
    const c = (await api("POST", "/v1/conversations", { metadata: { a: "1" } })).body;
    expect((await api("POST", `/v1/conversations/${c.id}`, { metadata: { b: "2" } })).body.metadata).toEqual({ b: "2" });
    expect((await api("DELETE", `/v1/conversations/${c.id}`)).body).toEqual({ id: c.id, object: "conversation.deleted", deleted: true });
    expect((await api("GET", `/v1/conversations/${c.id}`)).status).toBe(404);
  });
});

describe("POST /v1/responses", () => {
  it("answers a plain response and stores it for retrieval", async () => {
    const r = await api("POST", "/v1/responses", { input: "hi there", instructions: "Be terse", max_output_tokens: 100 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      object: "response", status: "completed", output_text: "echo(2): hi there", instructions: "Be terse", max_output_tokens: 100,
      output: [{ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "echo(2): hi there" }] }],
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number), total_tokens: expect.any(Number) },
      previous_response_id: null, conversation: null, store: true,
    });
    expect(mock.chatRequests()[0]!.body).toMatchObject({ max_tokens: 100, messages: [{ role: "system", content: "Be terse" }, { role: "user", content: "hi there" }] });
    expect((await api("GET", `/v1/responses/${r.body.id}`)).body).toEqual(r.body);
    const items = await api("GET", `/v1/responses/${r.body.id}/input_items`);
    expect(items.body.data.map((i: any) => i.content[0].text)).toEqual(["hi there"]);
  });

  it("chains with previous_response_id, branches see different histories, instructions are not carried over", async () => {
    const a = (await api("POST", "/v1/responses", { input: "A", instructions: "only for A" })).body;
    const b1 = (await api("POST", "/v1/responses", { input: "B1", previous_response_id: a.id })).body;
    const b2 = (await api("POST", "/v1/responses", { input: "B2", previous_response_id: a.id })).body;
    const c = (await api("POST", "/v1/responses", { input: "C", previous_response_id: b1.id })).body;
    const sent = mock.chatRequests().map((r) => r.body.messages.map((m: any) => m.content));
    expect(sent[1]).toEqual(["A", "echo(2): A", "B1"]);
    expect(sent[2]).toEqual(["A", "echo(2): A", "B2"]);
    expect(sent[3]).toEqual(["A", "echo(2): A", "B1", "echo(3): B1", "C"]);
    expect(c.previous_response_id).toBe(b1.id);
    expect(b2.output_text).toBe("echo(3): B2");
  });

  it("uses a conversation as history and appends input and output to it", async () => {
    const conv = (await api("POST", "/v1/conversations", { items: [{ role: "user", content: "earlier" }] })).body;
    const r = (await api("POST", "/v1/responses", { input: "now", conversation: conv.id })).body;
    expect(r.conversation).toEqual({ id: conv.id });
    expect(mock.chatRequests()[0]!.body.messages.map((m: any) => m.content)).toEqual(["earlier", "now"]);
    const items = await api("GET", `/v1/conversations/${conv.id}/items?order=asc`);
    expect(items.body.data.map((i: any) => [i.role, i.content[0].text])).toEqual([["user", "earlier"], ["user", "now"], ["assistant", "echo(2): now"]]);
  });

  it("stores nothing with store:false", async () => {
    const conv = (await api("POST", "/v1/conversations", {})).body;
    const r = (await api("POST", "/v1/responses", { input: "secret", conversation: conv.id, store: false })).body;
    expect(r.output_text).toBe("echo(1): secret");
    expect((await api("GET", `/v1/responses/${r.id}`)).status).toBe(404);
    expect((await api("GET", `/v1/conversations/${conv.id}/items`)).body.data).toEqual([]);
    const plain = (await api("POST", "/v1/responses", { input: "alone", store: false })).body;
    expect(plain.status).toBe("completed");
    expect((await api("GET", `/v1/responses/${plain.id}`)).status).toBe(404);
  });

  it("streams the Responses events in order with increasing sequence numbers", async () => {
    const frames = await new SseReader(await post("/v1/responses", { input: "stream this now", stream: true })).all();
    const types = frames.map((f) => f.event);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    frames.forEach((f, i) => expect(f.data.sequence_number).toBe(i));
    const text = frames.filter((f) => f.event === "response.output_text.delta").map((f) => f.data.delta).join("");
    expect(text).toBe("echo(1): stream this now");
    expect(frames.at(-1)!.data.response.output_text).toBe(text);
  });

  it("marks a length-stopped reply incomplete with max_output_tokens as the reason", async () => {
    mock.fail({ kind: "length" });
    const r = (await api("POST", "/v1/responses", { input: "a b c d e f" })).body;
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  it.each([
    ["both conversation and previous_response_id", { input: "x", conversation: "conv_x", previous_response_id: "resp_a_b" }, 400, "previous_response_id"],
    ["an unknown previous_response_id", { input: "x", previous_response_id: "resp_zzz_dGhyZWFkLW5vbmU" }, 400, "previous_response_id"],
    ["a malformed previous_response_id", { input: "x", previous_response_id: "nope" }, 400, "previous_response_id"],
    ["an unknown conversation", { input: "x", conversation: "conv_missing" }, 404, "conversation"],
    ["a bad temperature", { input: "x", temperature: 5 }, 400, "temperature"],
    ["an unknown field", { input: "x", frequency_penalty: 1 }, 400, "frequency_penalty"],
  ])("refuses %s", async (_n, body, status, param) => {
    const r = await api("POST", "/v1/responses", body);
    expect(r.status).toBe(status);
    expect(errorOf(r).param).toBe(param);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("deletes a response; retrieving it is then 404", async () => {
    const r = (await api("POST", "/v1/responses", { input: "x" })).body;
    expect((await api("DELETE", `/v1/responses/${r.id}`)).body).toEqual({ id: r.id, object: "response", deleted: true });
    expect((await api("GET", `/v1/responses/${r.id}`)).status).toBe(404);
    expect((await api("GET", "/v1/responses/resp_bogus")).status).toBe(404);
  });

  it("maps an upstream failure to an OpenAI-shaped error", async () => {
    mock.fail({ kind: "status", status: 500 });
    const r = await api("POST", "/v1/responses", { input: "x" });
    expect(r.status).toBe(502);
    errorOf(r);
  });
});

describe("POST /v1/responses with Idempotency-Key", () => {
  it("answers a retry with the first response and calls the upstream once, for new chains and conversations", async () => {
    const h = { "Idempotency-Key": `resp-${Date.now()}` };
    const a = await api("POST", "/v1/responses", { input: "once" }, h);
    const b = await api("POST", "/v1/responses", { input: "once" }, h);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    const conv = (await api("POST", "/v1/conversations", {})).body;
    const h2 = { "Idempotency-Key": `conv-resp-${Date.now()}` };
    const c = await api("POST", "/v1/responses", { input: "hi", conversation: conv.id }, h2);
    const d = await api("POST", "/v1/responses", { input: "hi", conversation: conv.id }, h2);
    expect(d.body.id).toBe(c.body.id);
    expect(mock.chatRequests()).toHaveLength(2);
    expect((await api("GET", `/v1/conversations/${conv.id}/items`)).body.data).toHaveLength(2);
  });

  it("replays a retried stream as the same response's events", async () => {
    const h = { "Idempotency-Key": `stream-resp-${Date.now()}` };
    const first = await new SseReader(await post("/v1/responses", { input: "tell me", stream: true }, h)).all();
    const again = await new SseReader(await post("/v1/responses", { input: "tell me", stream: true }, h)).all();
    const text = (frames: typeof first) => frames.filter((f) => f.event === "response.output_text.delta").map((f) => f.data.delta).join("");
    expect(text(again)).toBe(text(first));
    expect(again.at(-1)!.data.response).toEqual(first.at(-1)!.data.response);
    expect(mock.chatRequests()).toHaveLength(1);
  });
});

describe("refused creates leave nothing behind", () => {
  it("a conversation with an oversized item is a 413, and a retry with the same key is not told it succeeded", async () => {
    const h = { "Idempotency-Key": `big-${Date.now()}` };
    const body = { items: [{ role: "user", content: "x".repeat(600_000) }] };
    const a = await api("POST", "/v1/conversations", body, h);
    expect(a.status).toBe(413);
    const b = await api("POST", "/v1/conversations", body, h);
    expect(b.status).toBe(413);
  });

  it("a response refused for its input creates no chain thread", async () => {
    const { env } = await import("cloudflare:workers");
    const { listDurableObjectIds, runInDurableObject } = await import("cloudflare:test");
    const before = new Set((await listDurableObjectIds(env.THREADS)).map((i) => i.toString()));
    const r = await api("POST", "/v1/responses", { input: "word ".repeat(40_000) });
    expect(r.status).toBe(400);
    expect(errorOf(r).code).toBe("context_length_exceeded");
    const fresh = (await listDurableObjectIds(env.THREADS)).filter((i) => !before.has(i.toString()));
    for (const id of fresh) {
      const tables = await runInDurableObject(env.THREADS.get(id) as unknown as DurableObjectStub, (_o: unknown, state: DurableObjectState) =>
        state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray());
      expect(tables).toEqual([]);
    }
  });
});

describe("a chain continuing a conversation's response", () => {
  it("is kept out of the conversation, yet lists its own input items", async () => {
    const conv = (await api("POST", "/v1/conversations", {})).body;
    const r1 = (await api("POST", "/v1/responses", { input: "inside", conversation: conv.id })).body;
    const r2 = (await api("POST", "/v1/responses", { input: "outside", previous_response_id: r1.id })).body;
    expect(r2.status).toBe("completed");
    const items = (await api("GET", `/v1/conversations/${conv.id}/items?order=asc`)).body.data.map((i: any) => i.content[0].text);
    expect(items).toEqual(["inside", "echo(1): inside"]);
    const inputs = (await api("GET", `/v1/responses/${r2.id}/input_items`)).body.data.map((i: any) => i.content[0].text);
    expect(inputs).toEqual(["outside"]);
  });
});
