/**
 * Wire fidelity of /v1/responses against OpenAI's own schemas (issue #10, item 8),
 * through test/spec/spec.ts: every Response object and every streamed event —
 * text, a function call, reasoning, a failure — must validate against the
 * spec's `Response` / `ResponseStreamEvent`; `response.failed` carries one of
 * OpenAI's error codes; a stream whose upstream failed before the first token
 * announces no empty output item.
 */
import { describe, expect, it } from "vitest";
import { api, eventually, parseSse, post, useMockUpstream } from "../helpers.ts";
import { assertMatchesSpec } from "../spec/spec.ts";
import spec from "../spec/openai-responses.schema.json";

const mock = useMockUpstream();
const MODEL = "@cf/meta/llama-3.1-8b-instruct";
const weather = { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false };
const OPENAI_ERROR_CODES: string[] = (spec.components.schemas as Record<string, any>).ResponseErrorCode.enum;

async function streamed(body: object): Promise<any[]> {
  const res = await post("/v1/responses", { model: MODEL, stream: true, ...body });
  expect(res.status).toBe(200);
  return parseSse(await res.text()).map((f) => f.data);
}

describe("Responses objects and events match OpenAI's spec", () => {
  it("a text response, created and retrieved, with every required usage detail", async () => {
    const r = await api("POST", "/v1/responses", { model: MODEL, input: "hi" });
    assertMatchesSpec("Response", r.body);
    expect(r.body.usage.input_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 0 });
    expect(r.body.usage.output_tokens_details).toEqual({ reasoning_tokens: 0 });
    assertMatchesSpec("Response", (await api("GET", `/v1/responses/${r.body.id}`)).body);
  });

  it("every event of a streamed text response", async () => {
    const events = await streamed({ input: "stream this please" });
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
  });

  it("a function call: the Response's output item and every event (output_item.added, arguments delta/done, output_item.done)", async () => {
    const r = await api("POST", "/v1/responses", { model: MODEL, input: '[[call get_weather {"city":"Paris"}]]', tools: [weather] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    assertMatchesSpec("Response", r.body);
    expect(r.body.output).toEqual([expect.objectContaining({ type: "function_call", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" })]);
    const events = await streamed({ input: '[[call get_weather {"city":"Paris"}]]', tools: [weather] });
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
    const types = events.map((e) => e.type);
    expect(types).toContain("response.function_call_arguments.delta");
    expect(types.filter((t) => t === "response.function_call_arguments.done")).toHaveLength(1);
    expect(events.filter((e) => e.type === "response.function_call_arguments.delta").map((e) => e.delta).join("")).toBe('{"city":"Paris"}');
  });

  it("reasoning the upstream streams becomes a reasoning item and response.reasoning_text events", async () => {
    const events = await streamed({ input: "[[reasoning weigh it up]] answer", reasoning: { effort: "low" } });
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
    expect(events.filter((e) => e.type === "response.reasoning_text.delta").map((e) => e.delta).join("")).toBe("weigh it up");
    const done = events.at(-1);
    expect(done.response.output.map((i: any) => i.type)).toEqual(["reasoning", "message"]);
    expect(mock.chatRequests()[0]!.body.reasoning_effort).toBe("low");
  });

  it("an upstream failure before the first token: response.failed with an OpenAI error code, and no empty output item", async () => {
    mock.fail({ kind: "status", status: 500 });
    const events = await streamed({ input: "hi" });
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
    expect(events.map((e) => e.type)).not.toContain("response.output_item.added");
    const failed = events.at(-1);
    expect(failed.type).toBe("response.failed");
    expect(OPENAI_ERROR_CODES).toContain(failed.response.error.code);
    expect(failed.response.output).toEqual([]);
  });
});

describe("Response states, queued and incomplete events, and item lists match OpenAI's spec", () => {
  it("a background response: queued when created, its streamed events (response.queued included), completed", async () => {
    const r = await api("POST", "/v1/responses", { model: MODEL, input: "later", background: true });
    assertMatchesSpec("Response", r.body);
    expect(["queued", "in_progress"]).toContain(r.body.status);
    const events = await streamed({ input: "later too", background: true });
    expect(events.map((e) => e.type)).toContain("response.queued");
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
    const done = await eventually(async () => {
      const g = await api("GET", `/v1/responses/${r.body.id}`);
      return g.body.status === "completed" && g.body;
    });
    assertMatchesSpec("Response", done);
  });

  it("a cancelled response and a failed one", async () => {
    mock.fail({ kind: "hang" });
    const r = await api("POST", "/v1/responses", { model: MODEL, input: "never ends", background: true });
    const c = await api("POST", `/v1/responses/${r.body.id}/cancel`);
    expect(c.body.status).toBe("cancelled");
    assertMatchesSpec("Response", c.body);
    assertMatchesSpec("Response", (await api("GET", `/v1/responses/${r.body.id}`)).body);
    mock.fail({ kind: "status", status: 500 });
    const f = await api("POST", "/v1/responses", { model: MODEL, input: "fails", background: true });
    const failed = await eventually(async () => {
      const g = await api("GET", `/v1/responses/${f.body.id}`);
      return g.body.status === "failed" && g.body;
    });
    assertMatchesSpec("Response", failed);
  });

  it("an incomplete response (cut by max_output_tokens), streamed and not", async () => {
    mock.fail({ kind: "length" });
    const r = await api("POST", "/v1/responses", { model: MODEL, input: "one two three four five six" });
    expect(r.body.status).toBe("incomplete");
    assertMatchesSpec("Response", r.body);
    mock.fail({ kind: "length" });
    const events = await streamed({ input: "one two three four five six" });
    expect(events.at(-1).type).toBe("response.incomplete");
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
  });

  it("conversation items (message, function_call, function_call_output, a reply) and a response's input_items", async () => {
    const c = (await api("POST", "/v1/conversations", { items: [
      { type: "message", role: "user", content: "weather?" },
      { type: "function_call", call_id: "call_a", name: "get_weather", arguments: "{}" },
      { type: "function_call_output", call_id: "call_a", output: "rain" },
    ] })).body;
    const r = await api("POST", "/v1/responses", { model: MODEL, conversation: c.id, input: [{ role: "user", content: [{ type: "input_text", text: "so?" }] }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const list = (await api("GET", `/v1/conversations/${c.id}/items?order=asc`)).body;
    expect(list.data.map((i: any) => i.type)).toEqual(["message", "function_call", "function_call_output", "message", "message"]);
    assertMatchesSpec("ConversationItemList", list);
    for (const item of list.data) {
      assertMatchesSpec("ConversationItem", item);
      assertMatchesSpec("ConversationItem", (await api("GET", `/v1/conversations/${c.id}/items/${item.id}`)).body);
    }
    assertMatchesSpec("ResponseItemList", (await api("GET", `/v1/responses/${r.body.id}/input_items`)).body);
  });
});
