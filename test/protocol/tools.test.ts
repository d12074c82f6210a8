/**
 * The tool, tool-choice and structured-output schemas (src/protocol/tools.ts)
 * and the JSON Schema check (src/protocol/jsonschema.ts): what the real clients
 * send parses (bodies recorded in test/e2e/CLIENTS.md), what OpenAI would
 * refuse is refused with the offending path, and the parsed types fit the
 * `openai` SDK's own types (checked at compile time by `satisfies`).
 */
import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { jsonSchemaProblem, MAX_SCHEMA_DEPTH } from "../../src/protocol/jsonschema.ts";
import {
  ChatResponseFormat, ChatToolChoice, ChatTools, MAX_TOOLS, ResponsesFunctionTool, ResponsesToolChoice, ResponsesTools,
  ResponseTextParam, TextFormat, toChatResponseFormat, toChatTool, toChatToolChoice,
} from "../../src/protocol/tools.ts";

const citySchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
const paths = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }) => r.error?.issues.map((i) => i.path.join(".")) ?? [];

describe("JSON Schema check", () => {
  it("accepts what zod's converters emit (draft-07 and 2020-12 $schema), booleans and nesting", () => {
    for (const s of [
      { $schema: "http://json-schema.org/draft-07/schema#", ...citySchema },
      { $schema: "https://json-schema.org/draft/2020-12/schema", ...citySchema },
      { type: ["string", "null"] }, true, {},
      { type: "array", items: [{ type: "string" }, { type: "number" }] },
      { anyOf: [{ $ref: "#/$defs/a" }, { type: "null" }], $defs: { a: { type: "integer", minimum: 0 } } },
    ]) expect(jsonSchemaProblem(s)).toBeNull();
  });

  it("names the first broken keyword by its JSON Pointer", () => {
    expect(jsonSchemaProblem({ type: "objekt" })).toBe('/type: unknown type "objekt"');
    expect(jsonSchemaProblem({ type: "object", properties: { city: { type: "strng" } } })).toBe('/properties/city/type: unknown type "strng"');
    expect(jsonSchemaProblem({ required: "city" })).toBe("/required: must be a list of property names");
    expect(jsonSchemaProblem({ anyOf: [] })).toBe("/anyOf: must be a non-empty list of schemas");
    expect(jsonSchemaProblem({ pattern: "(" })).toBe("/pattern: not a valid regular expression");
    expect(jsonSchemaProblem({ maxLength: -1 })).toBe("/maxLength: must be a non-negative integer");
    expect(jsonSchemaProblem({ items: { properties: [] } })).toBe("/items/properties: must be an object of schemas");
    expect(jsonSchemaProblem("object")).toBe("/: a schema must be an object or a boolean");
  });

  it("refuses nesting deeper than the limit (client data; the check must end)", () => {
    let deep: object = { type: "string" };
    for (let i = 0; i <= MAX_SCHEMA_DEPTH + 1; i++) deep = { type: "object", properties: { x: deep } };
    expect(jsonSchemaProblem(deep)).toMatch(/nested deeper than/);
  });
});

describe("chat tools", () => {
  it("parses a function tool as the openai SDK types it", () => {
    const tools = ChatTools.parse([{ type: "function", function: { name: "get_weather", description: "d", parameters: citySchema, strict: true } }]);
    tools satisfies OpenAI.Chat.ChatCompletionFunctionTool[];
    expect(tools[0]!.function.parameters).toEqual(citySchema);
  });

  it("refuses a bad schema, a bad name, a duplicate name and more than 128 tools, naming the path", () => {
    expect(paths(ChatTools.safeParse([{ type: "function", function: { name: "f", parameters: { type: "objekt" } } }]))).toEqual(["0.function.parameters"]);
    expect(paths(ChatTools.safeParse([{ type: "function", function: { name: "bad name!" } }]))).toEqual(["0.function.name"]);
    expect(paths(ChatTools.safeParse([{ type: "function", function: { name: "f", extra: 1 } }]))).toEqual(["0.function"]);
    const f = { type: "function", function: { name: "f" } };
    expect(paths(ChatTools.safeParse([f, f]))).toEqual(["1"]);
    const many = Array.from({ length: MAX_TOOLS + 1 }, (_, i) => ({ type: "function", function: { name: `f${i}` } }));
    expect(MAX_TOOLS).toBe(128);
    expect(ChatTools.safeParse(many.slice(0, MAX_TOOLS)).success).toBe(true);
    expect(ChatTools.safeParse(many).error?.issues[0]?.message).toBe("at most 128 tools");
  });

  it("tool_choice and response_format take the documented forms", () => {
    for (const c of ["none", "auto", "required", { type: "function", function: { name: "f" } }]) {
      ChatToolChoice.parse(c) satisfies OpenAI.Chat.ChatCompletionToolChoiceOption;
    }
    expect(ChatToolChoice.safeParse("sometimes").success).toBe(false);
    for (const f of [{ type: "text" }, { type: "json_object" }, { type: "json_schema", json_schema: { name: "w", schema: citySchema, strict: true } }]) {
      ChatResponseFormat.parse(f) satisfies NonNullable<OpenAI.Chat.ChatCompletionCreateParams["response_format"]>;
    }
    expect(paths(ChatResponseFormat.safeParse({ type: "json_schema", json_schema: { name: "w", schema: { type: 3 } } }))).toEqual(["json_schema.schema"]);
  });
});

describe("Responses tools and text.format", () => {
  it("parses the tools each client sends (strict true / false / null, $schema inside)", () => {
    const agents = { type: "function", name: "get_weather", description: "d", parameters: { $schema: "http://json-schema.org/draft-07/schema#", ...citySchema }, strict: true };
    const aiSdk = { ...agents, strict: false };
    const langchain = { type: "function", name: "get_weather", parameters: { $schema: "https://json-schema.org/draft/2020-12/schema", ...citySchema }, description: "d", strict: null };
    const sdkTyped: OpenAI.Responses.FunctionTool = { type: "function", name: "f", parameters: null, strict: null };
    expect(ResponsesTools.parse([agents, aiSdk, langchain].map((t, i) => ({ ...t, name: `f${i}` })))).toHaveLength(3);
    expect(ResponsesTools.parse([])).toEqual([]);
    ResponsesFunctionTool.parse(sdkTyped);
    expect(ResponsesTools.safeParse([{ type: "web_search" }]).success).toBe(false);
  });

  it("maps a Responses tool, tool choice and text.format to their chat forms", () => {
    expect(toChatTool(ResponsesFunctionTool.parse({ type: "function", name: "f", description: "d", parameters: citySchema, strict: null })))
      .toEqual({ type: "function", function: { name: "f", description: "d", parameters: citySchema } });
    expect(toChatToolChoice(ResponsesToolChoice.parse({ type: "function", name: "f" }))).toEqual({ type: "function", function: { name: "f" } });
    expect(toChatToolChoice(ResponsesToolChoice.parse({ type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "f" }] }))).toBe("required");
    expect(toChatToolChoice("auto")).toBe("auto");
    const format = TextFormat.parse({ type: "json_schema", name: "weather", strict: true, schema: citySchema });
    expect(toChatResponseFormat(format)).toEqual({ type: "json_schema", json_schema: { name: "weather", schema: citySchema, strict: true } });
    expect(toChatResponseFormat({ type: "json_object" })).toEqual({ type: "json_object" });
  });

  it("text takes {} (LangChain) and verbosity; a json_schema format needs a name and a valid schema", () => {
    expect(ResponseTextParam.parse({})).toEqual({});
    ResponseTextParam.parse({ verbosity: "low", format: { type: "text" } }) satisfies OpenAI.Responses.ResponseTextConfig;
    expect(paths(ResponseTextParam.safeParse({ format: { type: "json_schema", schema: citySchema } }))).toEqual(["format.name"]);
    expect(paths(ResponseTextParam.safeParse({ format: { type: "json_schema", name: "w", schema: { required: 1 } } }))).toEqual(["format.schema"]);
  });
});
