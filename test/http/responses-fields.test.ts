/**
 * The Responses fields with an effect here (issue #10, README "Responses
 * fields"): truncation, reasoning kept out of later prompts, JSON formats
 * streamed from a non-streamed upstream call, a reply that is not JSON, and a
 * background response's event stream resumed with starting_after.
 */
import { describe, expect, it } from "vitest";
import { api, errorOf, eventually, get, parseSse, post, useMockUpstream } from "../helpers.ts";
import { assertMatchesSpec } from "../spec/spec.ts";

const mock = useMockUpstream();
const MODEL = "@cf/meta/llama-3.1-8b-instruct";
const respond = (body: object) => api("POST", "/v1/responses", { model: MODEL, ...body });
const schemaFormat = { type: "json_schema", name: "w", schema: { type: "object", properties: { a: { type: "number" } } }, strict: true };

describe("truncation", () => {
  // llama-3.1-8b has 7,968 tokens, 1,024 kept for the reply; text estimates at 3 characters a token.
  const long = (tag: string) => `${tag} ${"x".repeat(12_000)}`;

  it("disabled: a continuation whose history does not fit is a 400 context_length_exceeded; auto (our default) drops the oldest turn", async () => {
    const r1 = await respond({ input: long("first") });
    expect(r1.status).toBe(200);
    const calls = mock.chatRequests().length;
    const refused = await respond({ previous_response_id: r1.body.id, input: long("second"), truncation: "disabled" });
    expect(refused.status).toBe(400);
    expect(errorOf(refused)).toMatchObject({ code: "context_length_exceeded", param: "input" });
    expect(mock.chatRequests()).toHaveLength(calls);
    const auto = await respond({ previous_response_id: r1.body.id, input: long("second") });
    expect(auto.status, JSON.stringify(auto.body)).toBe(200);
    expect(auto.body.truncation).toBe("auto");
    const sent = mock.chatRequests().at(-1)!.body.messages;
    expect(sent.map((m: any) => m.content.slice(0, 6))).toEqual(["second"]);
  });
});

describe("reasoning and JSON formats", () => {
  it("reasoning is a reasoning item of the response and never goes back upstream", async () => {
    const r1 = await respond({ input: "[[reasoning weigh it up]] answer", reasoning: { effort: "high" } });
    expect(r1.body.output.map((i: any) => i.type)).toEqual(["reasoning", "message"]);
    expect(r1.body.output[0].content).toEqual([{ type: "reasoning_text", text: "weigh it up" }]);
    expect(r1.body.reasoning).toEqual({ effort: "high", summary: null });
    const r2 = await respond({ previous_response_id: r1.body.id, input: "and?" });
    expect(r2.status).toBe(200);
    // (The echo quotes the directive, so the reply's text mentions it; the reasoning field itself is not sent.)
    expect(mock.chatRequests()[1]!.body.messages.filter((m: any) => m.role === "assistant")).toEqual([{ role: "assistant", content: r1.body.output_text }]);
    expect(mock.chatRequests()[1]!.body.reasoning_effort).toBeUndefined();
  });

  it("a streamed response with a JSON format calls the upstream without streaming and emits the same events", async () => {
    const res = await post("/v1/responses", { model: MODEL, input: 'give [[json {"a":1}]]', text: { format: schemaFormat }, stream: true });
    const events = parseSse(await res.text()).map((f) => f.data);
    expect(mock.chatRequests()[0]!.body.stream).toBeFalsy();
    expect(mock.chatRequests()[0]!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "w", schema: schemaFormat.schema, strict: true } });
    expect(events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")).toBe('{"a":1}');
    expect(events.at(-1)).toMatchObject({ type: "response.completed", response: { output_text: '{"a":1}', text: { format: schemaFormat } } });
  });

  it("a reply that is not JSON for a json_schema format fails the response: response.failed, and the stored response says failed", async () => {
    const res = await post("/v1/responses", { model: MODEL, input: "[[json-invalid]]", text: { format: schemaFormat }, stream: true });
    const events = parseSse(await res.text()).map((f) => f.data);
    const failed = events.at(-1);
    expect(failed.type).toBe("response.failed");
    expect(failed.response.error.message).toContain("invalid_json_output");
    expect((await api("GET", `/v1/responses/${failed.response.id}`)).body.status).toBe("failed");
  });
});

describe("tool fields", () => {
  const tool = (name: string) => ({ type: "function", name, parameters: { type: "object", properties: {} }, strict: null });

  it("max_tool_calls drops the calls beyond it; allowed_tools narrows the tools sent; top_logprobs goes upstream", async () => {
    const r = await respond({ input: "[[call a]] [[call b]]", tools: [tool("a"), tool("b"), tool("c")], max_tool_calls: 1,
      tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "function", name: "a" }, { type: "function", name: "b" }] }, top_logprobs: 2 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.output.map((i: any) => [i.type, i.name])).toEqual([["function_call", "a"]]);
    expect(r.body.max_tool_calls).toBe(1);
    const sent = mock.chatRequests()[0]!.body;
    expect(sent.tools.map((t: any) => t.function.name)).toEqual(["a", "b"]);
    expect(sent).toMatchObject({ tool_choice: "auto", logprobs: true, top_logprobs: 2 });
    // The response echoes its tools as the spec requires them (parameters and strict present).
    expect(r.body.tools[2]).toEqual({ type: "function", name: "c", parameters: { type: "object", properties: {} }, strict: null });
  });

  it("streamed, stored or not, a call beyond max_tool_calls is never announced", async () => {
    for (const store of [true, false]) {
      const res = await post("/v1/responses", { model: MODEL, input: "[[call a]] [[call b]]", tools: [tool("a"), tool("b")], max_tool_calls: 1, stream: true, store });
      const events = parseSse(await res.text()).map((f) => f.data);
      expect(events.filter((e) => e.type === "response.output_item.added").map((e) => e.item.name)).toEqual(["a"]);
      expect(events.at(-1).response.output.map((i: any) => i.name)).toEqual(["a"]);
    }
  });
});

describe("background responses, streamed", () => {
  it("GET ?stream=true&starting_after=N replays the events after N and follows them to the end", async () => {
    mock.chunkDelayMs = 30;
    const r = await respond({ input: "one two three four", background: true });
    expect(r.body).toMatchObject({ status: "queued", background: true });
    const res = await get(`/v1/responses/${r.body.id}?stream=true&starting_after=1`);
    expect(res.status).toBe(200);
    const events = parseSse(await res.text()).map((f) => f.data);
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
    // (0 response.created, 1 response.queued were skipped.)
    expect(events[0]).toMatchObject({ type: "response.in_progress", sequence_number: 2 });
    expect(events.every((e, i) => e.sequence_number === 2 + i)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "response.completed", response: { id: r.body.id, status: "completed" } });
    expect(events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("")).toMatch(/one two three four$/);
    // Once it has ended, the same request is rebuilt from the stored response.
    const again = parseSse(await (await get(`/v1/responses/${r.body.id}?stream=true`)).text()).map((f) => f.data);
    expect(again.at(-1).response.output_text).toBe(events.at(-1).response.output_text);
    expect(again.slice(2).map((e) => [e.type, e.sequence_number])).toEqual(events.map((e) => [e.type, e.sequence_number]));
    const done = await eventually(async () => (await api("GET", `/v1/responses/${r.body.id}`)).body.status === "completed");
    expect(done).toBe(true);
  });

  it("GET shows a running background response's text so far", async () => {
    mock.chunkDelayMs = 150;
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    const r = await respond({ input: words, background: true });
    const running = await eventually(async () => {
      const g = (await api("GET", `/v1/responses/${r.body.id}`)).body;
      return g.status === "in_progress" && g.output_text !== "" && g;
    }, 8000);
    expect(running.output[0]).toMatchObject({ type: "message", status: "in_progress", role: "assistant" });
    expect(`echo(1): ${words}`.startsWith(running.output_text)).toBe(true);
    await api("POST", `/v1/responses/${r.body.id}/cancel`);
  });

  it("only a background response can be streamed again", async () => {
    const r = await respond({ input: "hi" });
    const res = await get(`/v1/responses/${r.body.id}?stream=true`);
    expect(res.status).toBe(400);
  });
});
