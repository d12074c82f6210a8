import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, parseSse, uniqueId, useMockUpstream, AUTH } from "../helpers.ts";

const mock = useMockUpstream();

describe("POST /v1/threads/{id}/turns", () => {
  it("stores the user message and the reply, and answers with the completed turn and its output", async () => {
    const t = await createThread({ instructions: "You are terse." });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "Hello there" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      object: "thread.turn", thread_id: t.id, status: "completed", model: t.model, error: null,
      input_message_ids: [expect.stringMatching(/^msg_/)], output_message_id: r.body.output.id,
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
      output: { role: "assistant", status: "completed", content: "echo(2): Hello there", turn_id: r.body.id, seq: 2 },
    });
    const list = await api("GET", `/v1/threads/${t.id}/messages`);
    expect(list.body.data.map((m: any) => [m.role, m.content, m.turn_id])).toEqual([
      ["user", "Hello there", r.body.id],
      ["assistant", "echo(2): Hello there", r.body.id],
    ]);
    const thread = (await api("GET", `/v1/threads/${t.id}`)).body;
    expect(thread.message_count).toBe(2);
    expect(thread.usage).toEqual(r.body.usage);
    expect(thread.status).toBe("idle");
  });

  it("sends the upstream the instructions, the whole short history in order, max_tokens and the thread's params", async () => {
    const t = await createThread({ instructions: "Sys", params: { temperature: 0.3, max_tokens: 200 } });
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "one" });
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "aside" });
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "two", params: { temperature: 0.9 }, model: "@cf/openai/gpt-oss-120b" });
    const [first, second] = mock.chatRequests();
    expect(first!.body).toMatchObject({
      model: t.model, max_tokens: 200, temperature: 0.3,
      messages: [{ role: "system", content: "Sys" }, { role: "user", content: "one" }],
    });
    expect(second!.body).toMatchObject({ model: "@cf/openai/gpt-oss-120b", max_tokens: 200, temperature: 0.9 });
    expect(second!.body.messages).toEqual([
      { role: "system", content: "Sys" },
      { role: "user", content: "one" },
      { role: "assistant", content: "echo(2): one" },
      { role: "user", content: "aside" },
      { role: "user", content: "two" },
    ]);
    expect(first!.headers.authorization).toBe("Bearer test-key");
  });

  it("always sends max_tokens, 1024 by default", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "x" });
    expect(mock.chatRequests()[0]!.body.max_tokens).toBe(1024);
  });

  it("takes a list of messages as input, and they all precede the reply", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, {
      input: [{ role: "system", content: "Be kind" }, { role: "user", content: "a" }, { role: "user", content: "b" }],
    });
    expect(r.body.input_message_ids).toHaveLength(3);
    expect(r.body.output.seq).toBe(4);
    expect(mock.chatRequests()[0]!.body.messages.map((m: any) => m.content)).toEqual(["Be kind", "a", "b"]);
  });

  it("marks the reply and the turn incomplete when the upstream stops on length", async () => {
    const t = await createThread();
    mock.fail({ kind: "length" });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "a long question here" });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("incomplete");
    expect(r.body.output.status).toBe("incomplete");
  });

  it.each([
    ["an empty string input", { input: "" }, "input"],
    ["an empty input list", { input: [] }, "input"],
    ["a missing input", {}, "input"],
    ["a bad role in the input list", { input: [{ role: "wizard", content: "x" }] }, "input[0].role"],
    ["an unknown field", { input: "x", temperature: 1 }, "temperature"],
    ["a bad strategy", { input: "x", strategy: "shove" }, "strategy"],
    ["a non-boolean stream", { input: "x", stream: "yes" }, "stream"],
    ["max_tokens as large as the window", { input: "x", params: { max_tokens: 8000 } }, "params.max_tokens"],
  ])("refuses %s with a 400 naming the field; nothing is written and the upstream is not called", async (_n, body, param) => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, body);
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe(param);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(0);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("refuses an input that cannot fit the model's window with 400 context_length_exceeded", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "word ".repeat(8000) });
    expect(r.status).toBe(400);
    expect(errorOf(r)).toMatchObject({ param: "input", code: "context_length_exceeded" });
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(0);
  });

  it("answers 404 on an unknown thread", async () => {
    expect((await api("POST", `/v1/threads/${uniqueId()}/turns`, { input: "x" })).status).toBe(404);
  });
});

describe("POST /v1/threads/{id}/turns when the upstream fails", () => {
  it.each([
    ["a 500", { kind: "status", status: 500 } as const, 502, "upstream_error"],
    ["a 503", { kind: "status", status: 503 } as const, 502, "upstream_error"],
    ["a Cloudflare 5007 (no such model)", { kind: "cloudflare", status: 400, code: 5007, message: "No such model" } as const, 400, "invalid_request_error"],
    ["a Cloudflare 3040 (capacity)", { kind: "cloudflare", status: 429, code: 3040, message: "Capacity temporarily exceeded" } as const, 429, "rate_limit_error"],
    ["a Cloudflare 7003 (bad route)", { kind: "cloudflare", status: 404, code: 7003, message: "Could not route" } as const, 400, "invalid_request_error"],
    ["a malformed stream", { kind: "malformed" } as const, 502, "upstream_error"],
    ["a stream cut mid-reply", { kind: "cut", afterChunks: 2 } as const, 502, "upstream_error"],
    ["an upstream that never answers", { kind: "hang" } as const, 502, "upstream_error"],
    ["a stream that stalls mid-reply", { kind: "stall", afterChunks: 2 } as const, 502, "upstream_error"],
    ["a 200 with a JSON body instead of a stream", { kind: "status", status: 200, body: {} } as const, 502, "upstream_error"],
    ["an empty reply", { kind: "empty" } as const, 502, "upstream_error"],
  ])("maps %s to an OpenAI-shaped %s, keeps the user message, fails the turn, and the next turn works", async (_n, fault, status, type) => {
    const t = await createThread();
    mock.fail(fault);
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "please answer" });
    expect(r.status).toBe(status);
    const e = errorOf(r);
    expect(e.type).toBe(type);
    if ("message" in fault) expect(e.message).toContain(fault.message);

    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    expect(msgs[0]).toMatchObject({ role: "user", content: "please answer", status: "completed" });
    const turnId = msgs[0].turn_id;
    const turn = (await api("GET", `/v1/threads/${t.id}/turns/${turnId}`)).body;
    expect(turn.status).toBe("failed");
    expect(turn.error).toMatchObject({ type });
    if (fault.kind === "cut" || fault.kind === "malformed" || fault.kind === "stall") {
      expect(msgs[1]).toMatchObject({ role: "assistant", status: "incomplete", content: expect.stringMatching(/^echo\(1\): /) });
    }
    else expect(msgs).toHaveLength(1);

    const next = await api("POST", `/v1/threads/${t.id}/turns`, { input: "again" });
    expect(next.status).toBe(200);
    expect(next.body.status).toBe("completed");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.status).toBe("idle");
  });

  it("keeps the upstream's Retry-After on a 429", async () => {
    const t = await createThread();
    mock.fail({ kind: "status", status: 429, headers: { "retry-after": "7" }, body: { error: { message: "slow down", type: "rate_limit_error" } } });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "x" });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("7");
    expect(errorOf(r).message).toContain("slow down");
  });

  it("reports upstream credentials trouble as a 502, not the client's 401", async () => {
    const t = await createThread();
    mock.fail({ kind: "status", status: 401, body: { error: { message: "bad key", type: "authentication_error" } } });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "x" });
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_auth");
  });
});

describe("POST /v1/threads/{id}/turns with stream: true", () => {
  it("streams the turn as SSE frames with event, increasing id and JSON data, ending with turn.completed", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "before" });
    const res = await exports.default.fetch(`http://worker.test/v1/threads/${t.id}/turns`, {
      method: "POST", headers: AUTH, body: JSON.stringify({ input: "stream me please", stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = parseSse(await res.text());
    const types = frames.map((f) => f.event);
    expect(types[0]).toBe("turn.created");
    expect(types.slice(1, 4)).toEqual(["message.created", "turn.started", "message.created"]);
    expect(types.at(-2)).toBe("message.completed");
    expect(types.at(-1)).toBe("turn.completed");
    const ids = frames.map((f) => Number(f.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1]! + 1);
    for (const f of frames) expect(f.data).toMatchObject({ type: f.event, seq: Number(f.id), thread_id: t.id });

    const deltas = frames.filter((f) => f.event === "message.delta").map((f) => f.data.delta);
    expect(deltas.length).toBeGreaterThan(2);
    const final = frames.at(-2)!.data.message;
    expect(deltas.join("")).toBe(final.content);
    expect(final.content).toBe("echo(2): stream me please");

    const stored = (await api("GET", `/v1/threads/${t.id}/messages?order=desc&limit=1`)).body.data[0];
    expect(stored).toEqual(final);
    const turn = (await api("GET", `/v1/threads/${t.id}/turns/${frames[0]!.data.turn.id}`)).body;
    expect(turn.status).toBe("completed");
  });

  it("ends the stream with turn.failed carrying the error when the upstream cuts out, keeping the partial reply", async () => {
    const t = await createThread();
    mock.fail({ kind: "cut", afterChunks: 2 });
    const res = await exports.default.fetch(`http://worker.test/v1/threads/${t.id}/turns`, {
      method: "POST", headers: AUTH, body: JSON.stringify({ input: "one two three four five", stream: true }),
    });
    const frames = parseSse(await res.text());
    const end = frames.at(-1)!;
    expect(end.event).toBe("turn.failed");
    expect(end.data.turn.error).toMatchObject({ type: "upstream_error" });
    const partial = frames.find((f) => f.event === "message.completed")!.data.message;
    expect(partial).toMatchObject({ status: "incomplete", content: "echo(1): one " });
  });

  it("answers validation errors as plain JSON errors before any stream starts", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "", stream: true });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toMatch(/json/);
  });

  it("finishes and stores the reply even if the client stops reading", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 5;
    const res = await exports.default.fetch(`http://worker.test/v1/threads/${t.id}/turns`, {
      method: "POST", headers: AUTH, body: JSON.stringify({ input: "a b c d e f", stream: true }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    let msgs: any[] = [];
    for (let i = 0; i < 100 && msgs.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    }
    expect(msgs[1]).toMatchObject({ role: "assistant", status: "completed", content: "echo(1): a b c d e f" });
  });
});

describe("turn ordering on one thread", () => {
  it("runs concurrent turns one at a time, each seeing the previous reply", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 2;
    const results = await Promise.all(["q1", "q2", "q3"].map((q) => api("POST", `/v1/threads/${t.id}/turns`, { input: q })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    expect(msgs.map((m: any) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
    const sent = mock.chatRequests().map((r) => r.body.messages.length);
    expect(sent).toEqual([1, 3, 5]);
  });

  it("answers 409 to strategy reject while a turn runs, writing nothing", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 20;
    const first = api("POST", `/v1/threads/${t.id}/turns`, { input: "slow one two three" });
    await new Promise((r) => setTimeout(r, 30));
    const busy = await api("GET", `/v1/threads/${t.id}`);
    expect(busy.body.status).toBe("busy");
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "rude", strategy: "reject" });
    expect(r.status).toBe(409);
    expect(errorOf(r).type).toBe("conflict_error");
    expect((await first).status).toBe(200);
    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    expect(msgs.map((m: any) => m.content)).not.toContain("rude");
  });
});

describe("GET /v1/threads/{id}/turns/{turn_id}", () => {
  it("returns the turn, and 404 for an unknown one", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "x" });
    const { output: _, ...turn } = r.body;
    expect((await api("GET", `/v1/threads/${t.id}/turns/${r.body.id}`)).body).toEqual(turn);
    expect((await api("GET", `/v1/threads/${t.id}/turns/turn_nope`)).status).toBe(404);
  });
});
