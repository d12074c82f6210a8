/**
 * Native turns while tool results are pending (issue #10, README "Tools on
 * native turns"): a new message without the results is a 409
 * tool_outputs_pending that stores nothing; strategy "interrupt" moves on and
 * the abandoned calls reach no model; images over the content limit are a 413.
 */
import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();
const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

async function messagesOf(threadId: string): Promise<any[]> {
  return (await api("GET", `/v1/threads/${threadId}/messages?limit=100`)).body.data;
}

async function pendingCall(threadId: string): Promise<string> {
  const r = await api("POST", `/v1/threads/${threadId}/turns`, { input: '[[call get_weather {"city":"Oslo"}]]', tools: [weather] });
  expect(r.body.status).toBe("requires_action");
  return r.body.output.tool_calls[0].id;
}

describe("a new message while tool results are pending", () => {
  it("is a 409 tool_outputs_pending naming the calls; nothing is stored and the upstream is not called", async () => {
    const t = await createThread();
    const callId = await pendingCall(t.id);
    const before = await messagesOf(t.id);
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "and tomorrow?", tools: [weather] });
    expect(r.status).toBe(409);
    expect(errorOf(r)).toMatchObject({ code: "tool_outputs_pending" });
    expect(errorOf(r).message).toContain(callId);
    expect(await messagesOf(t.id)).toEqual(before);
    expect(mock.chatRequests()).toHaveLength(1);
  });

  it("with strategy interrupt moves on: the abandoned call is stored but sent to no model, and can no longer be answered", async () => {
    const t = await createThread();
    const callId = await pendingCall(t.id);
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "never mind", strategy: "interrupt" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe("completed");
    const sent = mock.chatRequests()[1]!.body.messages;
    expect(sent.filter((m: any) => m.tool_calls)).toEqual([]);
    expect(sent.map((m: any) => m.role)).toEqual(["user", "user"]);
    expect((await messagesOf(t.id)).map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const late = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: callId, content: "rain" }] });
    expect(late.status).toBe(400);
    expect(errorOf(late).message).toContain(callId);
  });
});

describe("POST /v1/threads/{id}/messages checks tool messages as turns do", () => {
  it("a tool message answering no call is a 400 naming it, and nothing is stored", async () => {
    const t = await createThread();
    await pendingCall(t.id);
    const before = await messagesOf(t.id);
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "tool", tool_call_id: "call_nowhere", content: "x" });
    expect(r.status).toBe(400);
    expect(errorOf(r)).toMatchObject({ param: "tool_call_id" });
    expect(errorOf(r).message).toContain("call_nowhere");
    expect(await messagesOf(t.id)).toEqual(before);
  });

  it("a user message while calls are pending is a 409 tool_outputs_pending; after the result is appended, it is stored", async () => {
    const t = await createThread();
    const callId = await pendingCall(t.id);
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "and tomorrow?" });
    expect(r.status).toBe(409);
    expect(errorOf(r)).toMatchObject({ code: "tool_outputs_pending" });
    expect(errorOf(r).message).toContain(callId);
    expect((await messagesOf(t.id)).map((m) => m.role)).toEqual(["user", "assistant"]);
    expect((await api("POST", `/v1/threads/${t.id}/messages`, { role: "tool", tool_call_id: callId, content: "rain" })).status).toBe(201);
    expect((await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "and tomorrow?" })).status).toBe(201);
    expect((await messagesOf(t.id)).map((m) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
  });
});

describe("tool results whose call does not fit the context window beside them", () => {
  it("are a 400 context_length_exceeded before anything is stored or sent (the call and its results go together or not at all)", async () => {
    const t = await createThread();
    const city = "x".repeat(8000);
    const r1 = await api("POST", `/v1/threads/${t.id}/turns`, { input: `[[call get_weather {"city":"${city}"}]]`, tools: [weather] });
    expect(r1.body.status).toBe("requires_action");
    const callId = r1.body.output.tool_calls[0].id;
    const before = await messagesOf(t.id);
    // Room for the small result alone (7,968-token window less 7,000 for the reply), not for the ~2,000-token call.
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: callId, content: "sunny" }], params: { max_tokens: 7000 } });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: "context_length_exceeded", param: "input" });
    expect(await messagesOf(t.id)).toEqual(before);
    expect(mock.chatRequests()).toHaveLength(1);
    const ok = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: callId, content: "sunny" }] });
    expect(ok.body.status).toBe("completed");
    expect(mock.chatRequests()[1]!.body.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "tool"]);
  });
});

describe("tool results that fit only without the thread's opening system message", () => {
  it("fail the turn with context_length_exceeded instead of sending a prompt with nothing of the exchange", async () => {
    const t = await createThread();
    // Pinned into every prompt: ~4,000 estimated tokens.
    expect((await api("POST", `/v1/threads/${t.id}/messages`, { role: "system", content: "s".repeat(12_000) })).status).toBe(201);
    const r1 = await api("POST", `/v1/threads/${t.id}/turns`, { input: `[[call get_weather {"city":"${"x".repeat(3600)}"}]]`, tools: [weather] });
    expect(r1.body.status).toBe("requires_action");
    const callId = r1.body.output.tool_calls[0].id;
    // Budget 4,968 (window 7,968 less 3,000): the call (~1,200) fits beside the result, not beside the system message too.
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "tool", tool_call_id: callId, content: "sunny" }], params: { max_tokens: 3000 } });
    expect(JSON.stringify(r.body)).toContain("context_length_exceeded");
    expect(r.status).toBe(400);
    expect(mock.chatRequests()).toHaveLength(1);
  });
});

describe("images against the content limit", () => {
  const big = `data:image/png;base64,${"A".repeat(600_000)}`;

  it("a data URL larger than the content limit is a 413 on native turns, and nothing is stored", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: [{ role: "user", content: [{ type: "text", text: "what?" }, { type: "image_url", image_url: { url: big } }] }] });
    expect(r.status).toBe(413);
    expect(errorOf(r).param).toBe("input[0].content");
    expect(await messagesOf(t.id)).toEqual([]);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("a data URL larger than the content limit is a 413 on /v1/responses", async () => {
    const r = await api("POST", "/v1/responses", { input: [{ role: "user", content: [{ type: "input_image", image_url: big, detail: "auto" }] }] });
    expect(r.status).toBe(413);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("store:false applies the same input limits: a data URL over the content limit, more messages than an input may have", async () => {
    const img = await api("POST", "/v1/responses", { store: false, input: [{ role: "user", content: [{ type: "input_image", image_url: big, detail: "auto" }] }] });
    expect(img.status).toBe(413);
    expect(errorOf(img).param).toBe("input[0].content");
    const many = Array.from({ length: 101 }, (_, i) => ({ role: "user", content: `m${i}` }));
    const r = await api("POST", "/v1/responses", { store: false, input: many });
    expect(r.status).toBe(413);
    expect(errorOf(r).message).toContain("messagesPerInput");
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("more item_reference items than an input may have messages is a 413, before any is looked up", async () => {
    const refs = Array.from({ length: 101 }, () => ({ type: "item_reference", id: "msg_nothing" }));
    const r = await api("POST", "/v1/responses", { input: refs });
    expect(r.status).toBe(413);
    expect(errorOf(r)).toMatchObject({ param: "input" });
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("background with store:false is a 400 naming background (OpenAI refuses it too)", async () => {
    const r = await api("POST", "/v1/responses", { input: "hi", background: true, store: false });
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe("background");
    expect(mock.chatRequests()).toHaveLength(0);
  });
});

describe("a conversation whose last response called a tool", () => {
  it("refuses a new message with 409 tool_outputs_pending until the function_call_output comes", async () => {
    const c = (await api("POST", "/v1/conversations", {})).body;
    const tool = { type: "function", name: "get_weather", parameters: { type: "object", properties: {} } };
    const r1 = await api("POST", "/v1/responses", { conversation: c.id, input: "[[call get_weather]]", tools: [tool] });
    const callId = r1.body.output[0].call_id;
    const early = await api("POST", "/v1/responses", { conversation: c.id, input: "hello?" });
    expect(early.status).toBe(409);
    expect(errorOf(early)).toMatchObject({ code: "tool_outputs_pending" });
    const items = (await api("GET", `/v1/conversations/${c.id}/items`)).body.data;
    expect(items.map((i: any) => i.type)).toEqual(["function_call", "message"]);
    const answered = await api("POST", "/v1/responses", { conversation: c.id, input: [{ type: "function_call_output", call_id: callId, output: "fog" }] });
    expect(answered.status).toBe(200);
    expect(answered.body.output_text).toBe(`tool results: get_weather(${callId})=fog`);
  });
});
