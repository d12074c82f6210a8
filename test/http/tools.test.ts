/**
 * Function tools on native turns (issue #10), over REST and SSE: a reply that
 * calls tools is stored as an assistant message with `tool_calls` and ends the
 * turn `requires_action`; tool messages answer it and the next upstream request
 * carries the calls and their results together; bad tool input is a 400 that
 * stores nothing. Also `response_format` and image parts on native turns.
 *
 * Streaming contract (README, "Tools on native turns"):
 * argument fragments arrive as `message.tool_call.delta` events
 * `{message_id, turn_id, index, call_id, name, delta}`, several per call, and the
 * turn's last event carries `turn.status: "requires_action"`.
 */
import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, parseSse, post, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

const weather = { type: "function", function: { name: "get_weather", description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };
const time = { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } };
const ASK_PARIS = 'Weather in Paris? [[call get_weather {"city":"Paris"}]]';

/** Runs a turn that calls get_weather and returns the finished turn (requires_action). */
async function turnCallingWeather(threadId: string) {
  const r = await api("POST", `/v1/threads/${threadId}/turns`, { input: ASK_PARIS, tools: [weather] });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function messagesOf(threadId: string): Promise<any[]> {
  return (await api("GET", `/v1/threads/${threadId}/messages?limit=100`)).body.data;
}

describe("native turns with tools (REST)", () => {
  it("a reply that calls a tool ends the turn requires_action, stored as an assistant message with tool_calls", async () => {
    const t = await createThread();
    const turn = await turnCallingWeather(t.id);
    expect(turn.status).toBe("requires_action");
    expect(turn.output).toMatchObject({ role: "assistant", status: "completed",
      tool_calls: [{ id: expect.any(String), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] });
    expect(turn.output.content ?? "").toBe("");
    expect(mock.chatRequests()[0]!.body.tools).toEqual([weather]);
    const stored = await messagesOf(t.id);
    expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored[1].tool_calls).toEqual(turn.output.tool_calls);
  });

  it("tool messages answer the calls: the next upstream request carries the call and its result together", async () => {
    const t = await createThread();
    const turn = await turnCallingWeather(t.id);
    const callId = turn.output.tool_calls[0].id;
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: callId, content: "sunny in Paris" }], tools: [weather] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ status: "completed", output: { role: "assistant", content: `tool results: get_weather(${callId})=sunny in Paris` } });
    const sent = mock.chatRequests()[1]!.body.messages;
    expect(sent.slice(-3)).toMatchObject([
      { role: "user", content: ASK_PARIS },
      { role: "assistant", tool_calls: [{ id: callId, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: callId, content: "sunny in Paris" },
    ]);
    expect((await messagesOf(t.id)).map((m) => [m.role, m.tool_call_id ?? null])).toEqual([
      ["user", null], ["assistant", null], ["tool", callId], ["assistant", null],
    ]);
  });

  it("parallel calls: both are stored and both results go upstream after their calls", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: '[[call get_weather {"city":"Oslo"}]] [[call get_time]]', tools: [weather, time] });
    expect(r.body.status).toBe("requires_action");
    const [a, b] = r.body.output.tool_calls;
    expect([a.function.name, b.function.name]).toEqual(["get_weather", "get_time"]);
    const done = await api("POST", `/v1/threads/${t.id}/turns`, { input: [
      { role: "tool", tool_call_id: a.id, content: "snow" }, { role: "tool", tool_call_id: b.id, content: "noon" },
    ] });
    expect(done.body.output.content).toBe(`tool results: get_weather(${a.id})=snow; get_time(${b.id})=noon`);
  });

  it("the thread's params.tools are the default tools of its turns", async () => {
    const t = await createThread({ params: { tools: [weather], tool_choice: "auto" } });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: ASK_PARIS });
    expect(r.body.status).toBe("requires_action");
    expect(mock.chatRequests()[0]!.body).toMatchObject({ tools: [weather], tool_choice: "auto" });
  });

  it("a tool message whose call ID matches no call of the thread is a 400 naming it, and nothing is stored", async () => {
    const t = await createThread();
    await turnCallingWeather(t.id);
    const before = await messagesOf(t.id);
    const calls = mock.chatRequests().length;
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: "call_nobody", content: "x" }] });
    expect(r.status).toBe(400);
    expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", param: "input[0].tool_call_id" });
    expect(errorOf(r).message).toContain("call_nobody");
    expect(await messagesOf(t.id)).toEqual(before);
    expect(mock.chatRequests()).toHaveLength(calls);
  });

  it("a tool whose parameters are not a JSON Schema, or more than 128 tools, is a 400 and nothing is stored", async () => {
    const t = await createThread();
    const bad = { type: "function", function: { name: "f", parameters: { type: "objekt" } } };
    const r1 = await api("POST", `/v1/threads/${t.id}/turns`, { input: "hi", tools: [bad] });
    expect(r1.status).toBe(400);
    expect(errorOf(r1).param).toBe("tools[0].function.parameters");
    const r2 = await api("POST", `/v1/threads/${t.id}/turns`, { input: "hi", tools: [weather, { type: "function", function: { name: "bad name!" } }] });
    expect(r2.status).toBe(400);
    expect(errorOf(r2).param).toBe("tools[1].function.name");
    const many = Array.from({ length: 129 }, (_, i) => ({ type: "function", function: { name: `f${i}` } }));
    const r3 = await api("POST", `/v1/threads/${t.id}/turns`, { input: "hi", tools: many });
    expect(r3.status).toBe(400);
    expect(errorOf(r3)).toMatchObject({ param: "tools" });
    expect(await messagesOf(t.id)).toEqual([]);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("a stream cut in the middle of the arguments leaves no half tool call: the next turn works", async () => {
    const t = await createThread();
    mock.fail({ kind: "cut", afterChunks: 2 });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: ASK_PARIS, tools: [weather] });
    expect(r.status).toBe(502);
    expect(errorOf(r).type).toBe("upstream_error");
    for (const m of await messagesOf(t.id)) {
      for (const c of m.tool_calls ?? []) expect(() => JSON.parse(c.function.arguments), "a stored call's arguments").not.toThrow();
    }
    const next = await api("POST", `/v1/threads/${t.id}/turns`, { input: "still there?" });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.status).toBe("completed");
    const sent = mock.chatRequests().at(-1)!.body.messages;
    expect(sent.filter((m: any) => m.tool_calls)).toEqual([]);
  });
});

describe("native turns with tools (SSE)", () => {
  it("streams the argument fragments as events and ends requires_action; the tool result then streams the answer", async () => {
    const t = await createThread();
    const res = await post(`/v1/threads/${t.id}/turns`, { input: '[[call get_weather {"city":"Rio de Janeiro"}]]', tools: [weather], stream: true });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text()).map((f) => f.data);
    const fragments = events.filter((e) => e.type === "message.tool_call.delta");
    expect(fragments.length).toBeGreaterThan(2);
    expect(fragments.map((e) => e.delta).join("")).toBe('{"city":"Rio de Janeiro"}');
    expect(fragments[0]).toMatchObject({ index: 0, name: "get_weather", call_id: expect.any(String) });
    const last = events.at(-1);
    expect(last.turn.status).toBe("requires_action");
    const completed = events.find((e) => e.type === "message.completed" && e.message.role === "assistant");
    expect(completed.message.tool_calls[0]).toMatchObject({ id: fragments[0].call_id, function: { name: "get_weather", arguments: '{"city":"Rio de Janeiro"}' } });

    const res2 = await post(`/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: fragments[0].call_id, content: "warm" }], stream: true });
    const events2 = parseSse(await res2.text()).map((f) => f.data);
    expect(events2.at(-1)).toMatchObject({ type: "turn.completed" });
    expect(events2.filter((e) => e.type === "message.delta").map((e) => e.delta).join("")).toBe(`tool results: get_weather(${fragments[0].call_id})=warm`);
  });
});

describe("native turns: response_format and images", () => {
  it("response_format goes upstream and the JSON reply is stored", async () => {
    const t = await createThread();
    const rf = { type: "json_schema", json_schema: { name: "w", schema: { type: "object", properties: { ok: { type: "boolean" } } }, strict: true } };
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: 'JSON [[json {"ok":true}]]', response_format: rf });
    expect(r.body.output.content).toBe('{"ok":true}');
    expect(mock.chatRequests()[0]!.body.response_format).toEqual(rf);
  });

  it("a reply that is not JSON for a json_schema format fails the turn with a clear error", async () => {
    const t = await createThread();
    const rf = { type: "json_schema", json_schema: { name: "w", schema: { type: "object" } } };
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "[[json-invalid]]", response_format: rf });
    expect(r.status, "the request was valid: the reply failed, not the request").not.toBe(400);
    expect(mock.chatRequests()).toHaveLength(1);
    expect(r.body.status ?? "failed").toBe("failed");
    expect(JSON.stringify(r.body)).toMatch(/json/i);
    expect((await messagesOf(t.id)).filter((m) => m.role === "assistant" && m.status === "completed")).toEqual([]);
  });

  it("content as text and image_url parts is stored exactly and sent upstream as parts", async () => {
    const t = await createThread();
    const content = [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } }];
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "user", content }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.output.content).toBe("echo(1): What is this? [1 image: https://example.com/cat.png (low)]");
    expect(mock.chatRequests()[0]!.body.messages.at(-1)).toEqual({ role: "user", content });
    expect((await messagesOf(t.id))[0].content).toEqual(content);
  });
});
