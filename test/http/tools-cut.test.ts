/**
 * Tools beside a JSON format, and replies cut while they wrote a call (issue #10
 * review): a reply that only calls tools is not held to the JSON format (the
 * answer after the results is), and a call cut by max_tokens is never stored,
 * so it cannot leave the thread waiting for a result nobody can give.
 */
import { describe, expect, it } from "vitest";
import { api, createThread, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();
const MODEL = "@cf/meta/llama-3.1-8b-instruct";
const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const weatherFn = { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } };
const weatherChat = { type: "function", function: { name: "get_weather", parameters: weatherFn.parameters } };
const ASK = '[[call get_weather {"city":"Paris"}]]';
const text = { format: { type: "json_schema", name: "w", schema, strict: true } };

const respond = (body: object) => api("POST", "/v1/responses", { model: MODEL, ...body });

describe("a JSON format with tools", () => {
  for (const store of [true, false]) {
    it(`Responses (store: ${store}): a reply that only calls a tool is a function_call, and the answer after its output is JSON`, async () => {
      const r1 = await respond({ input: ASK, tools: [weatherFn], text, store });
      expect(r1.status, JSON.stringify(r1.body)).toBe(200);
      expect(r1.body.status).toBe("completed");
      expect(r1.body.output[0]).toMatchObject({ type: "function_call", name: "get_weather", arguments: '{"city":"Paris"}' });
      const call = r1.body.output[0];
      const input = [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }];
      const r2 = await respond(store ? { previous_response_id: r1.body.id, input, tools: [weatherFn], text }
        : { input: [{ role: "user", content: ASK }, { type: "function_call", call_id: call.call_id, name: "get_weather", arguments: call.arguments }, ...input], tools: [weatherFn], text, store });
      expect(r2.status, JSON.stringify(r2.body)).toBe(200);
      expect(JSON.parse(r2.body.output_text)).toEqual({ city: "mock" });
    });
  }

  it("native turns: response_format with tools ends requires_action when the model calls a tool", async () => {
    const t = await createThread();
    const rf = { type: "json_schema", json_schema: { name: "w", schema } };
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: ASK, tools: [weatherChat], response_format: rf });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe("requires_action");
    expect(r.body.output.tool_calls[0].function).toEqual({ name: "get_weather", arguments: '{"city":"Paris"}' });
  });
});

describe("a reply cut by max_tokens while it wrote a call", () => {
  it("native turn: ends incomplete with no call stored, and the next message is answered (no 409)", async () => {
    const t = await createThread();
    mock.fail({ kind: "length" });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: ASK, tools: [weatherChat] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe("incomplete");
    expect(r.body.output?.tool_calls).toBeUndefined();
    const next = await api("POST", `/v1/threads/${t.id}/turns`, { input: "still there?" });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.status).toBe("completed");
    expect(mock.chatRequests().at(-1)!.body.messages.filter((m: any) => m.tool_calls)).toEqual([]);
  });

  it("native streamed turn: the same, over SSE", async () => {
    const t = await createThread();
    mock.fail({ kind: "length" });
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: ASK, tools: [weatherChat], stream: true });
    expect(r.status).toBe(200);
    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    expect(msgs.flatMap((m: any) => m.tool_calls ?? [])).toEqual([]);
    expect((await api("POST", `/v1/threads/${t.id}/turns`, { input: "go on" })).status).toBe(200);
  });

  it("Responses: ends incomplete without a function_call, and the chain goes on with a plain message", async () => {
    mock.fail({ kind: "length" });
    const r1 = await respond({ input: ASK, tools: [weatherFn] });
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    expect(r1.body.status).toBe("incomplete");
    expect(r1.body.output.filter((i: any) => i.type === "function_call")).toEqual([]);
    const r2 = await respond({ previous_response_id: r1.body.id, input: "go on" });
    expect(r2.status, JSON.stringify(r2.body)).toBe(200);
  });

  it("Responses store:false: ends incomplete without a function_call", async () => {
    mock.fail({ kind: "length" });
    const r = await respond({ input: ASK, tools: [weatherFn], store: false });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe("incomplete");
    expect(r.body.output.filter((i: any) => i.type === "function_call")).toEqual([]);
  });
});
