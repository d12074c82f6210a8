/**
 * Content parts and Responses input items (src/protocol/content.ts) and the
 * whole CreateResponse body (src/protocol/create-response.ts): the recorded
 * bodies of the real clients (test/e2e/CLIENTS.md) parse, every field OpenAI's
 * spec documents is accepted and nothing else, and images are refused unless
 * they are https or image data URLs.
 */
import type OpenAI from "openai";
import { describe, expect, expectTypeOf, it } from "vitest";
import { ChatContent, InputItem, ResponsesInput, toChatPart } from "../../src/protocol/content.ts";
import { CREATE_RESPONSE_FIELDS, CreateResponse } from "../../src/protocol/create-response.ts";
import spec from "../spec/openai-responses.schema.json";

const paths = (r: { error?: { issues: Array<{ path: PropertyKey[] }> } }) => r.error?.issues.map((i) => i.path.join(".")) ?? [];
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";

describe("chat content with images", () => {
  it("takes a string or text and image_url parts, as the openai SDK types them", () => {
    const parts = ChatContent.parse([{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: PNG, detail: "low" } }]);
    parts satisfies string | OpenAI.Chat.ChatCompletionContentPart[];
    expect(ChatContent.parse("hi")).toBe("hi");
  });

  it("refuses an image that is not https or an image data URL, and an empty part list", () => {
    for (const url of ["http://example.com/a.png", "file:///etc/passwd", "data:text/html;base64,PGI+", "javascript:alert(1)"]) {
      expect(paths(ChatContent.safeParse([{ type: "image_url", image_url: { url } }])), url).toContain("0.image_url.url");
    }
    expect(ChatContent.safeParse([]).success).toBe(false);
    expect(ChatContent.safeParse([{ type: "input_audio", input_audio: {} }]).success).toBe(false);
  });
});

describe("Responses input items", () => {
  it("parses every item the clients send: Agents SDK, AI SDK (item_reference), LangChain (function_call with id)", () => {
    const items = [
      { role: "user", content: "Hello" },
      { role: "user", content: [{ type: "input_text", text: "Weather?" }, { type: "input_image", image_url: PNG, detail: "auto" }] },
      { type: "message", role: "user", content: "Weather in Paris?" },
      { id: "fc_1", type: "function_call", name: "get_weather", call_id: "call_1", arguments: '{"city":"Paris"}', status: "completed" },
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{}" },
      { type: "function_call_output", call_id: "call_1", output: "sunny in Paris", status: "completed" },
      { type: "item_reference", id: "msg_2" },
      { id: "msg_3" },
      { role: "assistant", content: "reply 2" },
      { type: "message", id: "msg_4", role: "assistant", status: "completed", content: [{ type: "output_text", text: "hi", annotations: [], logprobs: [] }] },
      { type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "hmm" }] },
    ];
    const parsed = ResponsesInput.parse(items) as Array<{ type?: string | null }>;
    expect(parsed.map((i) => i.type ?? null)).toEqual([
      null, null, "message", "function_call", "function_call", "function_call_output", "item_reference", null, null, "message", "reasoning",
    ]);
    expect(ResponsesInput.parse("just text")).toBe("just text");
  });

  it("refuses input_file, an assistant input_image, a part on the wrong role and an output for no call", () => {
    expect(InputItem.safeParse({ role: "user", content: [{ type: "input_file", file_id: "file_1" }] }).success).toBe(false);
    expect(paths(InputItem.safeParse({ role: "assistant", content: [{ type: "input_image", image_url: PNG }] }))).toContain("content.0.type");
    expect(InputItem.safeParse({ role: "user", content: [{ type: "output_text", text: "x" }] }).success).toBe(false);
    expect(InputItem.safeParse({ type: "function_call_output", output: "x" }).success).toBe(false);
    expect(InputItem.safeParse({ type: "item_reference" }).success).toBe(false);
  });

  it("maps Responses parts to chat parts (original detail becomes high)", () => {
    expect(toChatPart({ type: "input_text", text: "a" })).toEqual({ type: "text", text: "a" });
    expect(toChatPart({ type: "input_image", image_url: PNG, detail: "original" })).toEqual({ type: "image_url", image_url: { url: PNG, detail: "high" } });
  });
});

/** The properties of a spec schema, through its allOf parts. */
function specProperties(name: string): string[] {
  const s = (spec.components.schemas as Record<string, any>)[name];
  return [s, ...(s.allOf ?? [])].flatMap((part: any) =>
    part.$ref ? specProperties(part.$ref.split("/").pop()) : Object.keys(part.properties ?? {}));
}

describe("CreateResponse", () => {
  it("has exactly the fields OpenAI's spec documents", () => {
    expect([...CREATE_RESPONSE_FIELDS].sort()).toEqual([...new Set(specProperties("CreateResponse"))].sort());
  });

  it("the openai SDK's request type has two fields the spec lacks (access_programs, image), and no other we miss", () => {
    expectTypeOf<Exclude<keyof OpenAI.Responses.ResponseCreateParamsNonStreaming, keyof CreateResponse>>().toEqualTypeOf<"access_programs" | "image">();
  });

  it("parses what each client sends and refuses an undocumented field", () => {
    const bodies = [
      { model: "m", instructions: "Be brief.", input: [{ role: "user", content: "Hello" }], include: [], tools: [], stream: false },
      { model: "m", input: [{ role: "user", content: "x" }], include: [], tools: [], conversation: "conv_1", stream: false,
        text: { format: { type: "json_schema", name: "output", strict: true, schema: { type: "object" } } } },
      { model: "m", input: [{ type: "function_call_output", call_id: "c", output: "o", status: "completed" }], previous_response_id: "resp_1",
        temperature: 0.2, max_output_tokens: 50, tool_choice: "auto", text: { verbosity: "low" }, store: true, reasoning: { effort: "low" } },
      { input: [{ type: "message", role: "user", content: "x" }], model: "m", stream: false, text: {},
        tools: [{ type: "function", name: "f", parameters: { type: "object" }, description: "d", strict: null }] },
      { model: "m", input: "city", service_tier: "auto", prompt_cache_key: "k", prompt_cache_retention: "24h", safety_identifier: "u",
        user: "u", background: true, truncation: "auto", top_logprobs: 2, max_tool_calls: 3, stream_options: { include_obfuscation: false } },
    ];
    for (const b of bodies) expect(CreateResponse.safeParse(b).error?.issues ?? []).toEqual([]);
    const unknown = CreateResponse.safeParse({ model: "m", input: "x", frequency_penalty: 1 });
    expect(unknown.error?.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["frequency_penalty"] });
  });
});
