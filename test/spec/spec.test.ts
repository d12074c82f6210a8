/**
 * The spec checker itself (test/spec/spec.ts): objects shaped as OpenAI
 * documents them pass, and objects that break the spec in ways a client would
 * notice fail, so a passing check elsewhere means something.
 */
import { describe, expect, it } from "vitest";
import { assertMatchesSpec, specErrors, specSchemaNames } from "./spec.ts";

const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 17 };
const functionCall = { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" };
const message = { type: "message", id: "msg_1", role: "assistant", status: "completed",
  content: [{ type: "output_text", text: "Sunny.", annotations: [], logprobs: [] }] };

/** A completed Response as OpenAI documents it (every field `Response` requires). */
function response(output: unknown[] = [message]) {
  return {
    id: "resp_1", object: "response", created_at: 1_700_000_000, status: "completed", completed_at: 1_700_000_001,
    error: null, incomplete_details: null, instructions: null, max_output_tokens: null, model: "@cf/meta/llama-3.1-8b-instruct",
    output, parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: null, summary: null },
    store: true, temperature: 1, text: { format: { type: "text" } }, tool_choice: "auto",
    tools: [{ type: "function", name: "get_weather", description: null, parameters: { type: "object", properties: {} }, strict: true }],
    top_p: 1, truncation: "disabled", usage, metadata: {},
  };
}

/** A response still running: the spec types `usage` as an object, so it is left out (not null) until there is one. */
function inProgress() {
  const { usage: _, ...rest } = response([]);
  return { ...rest, status: "in_progress", completed_at: null };
}

describe("assertMatchesSpec", () => {
  it("vendored the Response, every streaming event and the CreateResponse request", () => {
    for (const name of ["Response", "ResponseStreamEvent", "CreateResponse", "ResponseFunctionCallArgumentsDeltaEvent",
      "ResponseOutputItemAddedEvent", "ResponseCompletedEvent", "ResponseFailedEvent", "ConversationItem", "ResponseReasoningTextDeltaEvent"]) {
      expect(specSchemaNames).toContain(name);
    }
  });

  it("accepts a documented Response with a message, and one with a function call", () => {
    assertMatchesSpec("Response", response());
    assertMatchesSpec("Response", response([functionCall]));
  });

  it("accepts documented streaming events for a function call", () => {
    const events = [
      { type: "response.created", sequence_number: 0, response: inProgress() },
      { type: "response.output_item.added", sequence_number: 1, output_index: 0, item: { ...functionCall, arguments: "", status: "in_progress" } },
      { type: "response.function_call_arguments.delta", sequence_number: 2, item_id: "fc_1", output_index: 0, delta: '{"city":' },
      { type: "response.function_call_arguments.done", sequence_number: 3, item_id: "fc_1", output_index: 0, name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "response.output_item.done", sequence_number: 4, output_index: 0, item: functionCall },
      { type: "response.completed", sequence_number: 5, response: response([functionCall]) },
    ];
    for (const e of events) assertMatchesSpec("ResponseStreamEvent", e);
  });

  it("rejects what breaks the spec: a missing required field, a wrong type, an unknown event type", () => {
    const { output: _, ...noOutput } = response();
    expect(specErrors("Response", noOutput)).not.toEqual([]);
    expect(specErrors("Response", { ...response(), user: null })).not.toEqual([]);
    expect(specErrors("Response", { ...response(), status: "done" })).not.toEqual([]);
    expect(specErrors("Response", { ...response(), usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } })).not.toEqual([]);
    expect(specErrors("ResponseStreamEvent", { type: "response.function_call_arguments.delta", sequence_number: 2, item_id: "fc_1", output_index: 0, delta: 7 })).not.toEqual([]);
    expect(specErrors("ResponseStreamEvent", { type: "response.tool_call.delta", sequence_number: 1 })).not.toEqual([]);
    expect(() => assertMatchesSpec("Response", { id: "resp_1" })).toThrow(/not a valid Response/);
    expect(() => assertMatchesSpec("NoSuchSchema", {})).toThrow(/no vendored spec schema/);
  });

  it("checks requests too: CreateResponse takes function tools and text.format json_schema", () => {
    const body = {
      model: "m", input: [{ role: "user", content: [{ type: "input_text", text: "hi" }] }, { type: "function_call_output", call_id: "call_1", output: "ok" }],
      tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: true }],
      text: { format: { type: "json_schema", name: "w", schema: { type: "object" }, strict: true } },
    };
    assertMatchesSpec("CreateResponse", body);
    expect(specErrors("CreateResponse", { ...body, tools: [{ type: "function" }] })).not.toEqual([]);
  });
});
