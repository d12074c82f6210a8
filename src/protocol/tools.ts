/**
 * Zod schemas of function tools, tool choice and structured-output formats, in
 * both wire formats: Chat Completions (native turns, thread params, WebSocket
 * `turn.create`, and what the upstream receives) and Responses (`tools`,
 * `tool_choice`, `text.format`), plus the mapping from the second to the first.
 * Field sets follow OpenAI's spec (components.schemas FunctionTool,
 * ChatCompletionTool, ToolChoiceParam, TextResponseFormatConfiguration); what
 * the real clients send is in test/e2e/CLIENTS.md.
 */
import { z } from "zod";
import { jsonSchemaProblem } from "./jsonschema.ts";
import { Text } from "./text.ts";

/** Most tools one request may define: OpenAI's documented limit for both APIs. */
export const MAX_TOOLS = 128;

/** A function name as OpenAI allows it: a-z, A-Z, 0-9, underscores and dashes, at most 64. */
export const FunctionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of a-z, A-Z, 0-9, _ and -");

/** A JSON Schema object (tool parameters, structured output), checked by jsonSchemaProblem. */
export const JsonSchema = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  const problem = jsonSchemaProblem(schema);
  if (problem) ctx.addIssue({ code: "custom", message: `not a valid JSON Schema: ${problem}` });
});
export type JsonSchema = z.infer<typeof JsonSchema>;

/** Tool lists: at most MAX_TOOLS, names unique (the reply names the function it calls). */
function toolList<T extends z.ZodType>(tool: T, nameOf: (t: z.infer<T>) => string) {
  return z.array(tool).max(MAX_TOOLS, `at most ${MAX_TOOLS} tools`).superRefine((tools, ctx) => {
    const seen = new Set<string>();
    for (const [i, t] of tools.entries()) {
      const name = nameOf(t);
      if (seen.has(name)) ctx.addIssue({ code: "custom", path: [i], message: `the tool name '${name}' is used twice` });
      seen.add(name);
    }
  });
}

// ---------------------------------------------------------------------------
// Chat Completions format

/** `{type:"function", function:{name, description?, parameters?, strict?}}`. */
export const ChatTool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: FunctionName,
    description: Text().optional(),
    parameters: JsonSchema.optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
export type ChatTool = z.infer<typeof ChatTool>;

export const ChatTools = toolList(ChatTool, (t) => t.function.name);

/** `"none" | "auto" | "required"` or one named function. */
export const ChatToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: FunctionName }) }),
]);
export type ChatToolChoice = z.infer<typeof ChatToolChoice>;

/** `response_format`: text, JSON mode, or JSON that fits a schema. */
export const ChatResponseFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.strictObject({
      name: FunctionName,
      description: Text().optional(),
      schema: JsonSchema.optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);
export type ChatResponseFormat = z.infer<typeof ChatResponseFormat>;

/** The tool fields a native turn, a WebSocket `turn.create` or a thread's `params` may carry. */
export const ChatToolParams = z.strictObject({
  tools: ChatTools.optional(),
  tool_choice: ChatToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ChatResponseFormat.optional(),
});
export type ChatToolParams = z.infer<typeof ChatToolParams>;

// ---------------------------------------------------------------------------
// Responses format

/**
 * A Responses function tool. The spec lists `parameters` and `strict` as
 * required, but clients omit them or send null (LangChain sends `strict: null`).
 */
export const ResponsesFunctionTool = z.strictObject({
  type: z.literal("function"),
  name: FunctionName,
  description: Text().nullable().optional(),
  parameters: JsonSchema.nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
export type ResponsesFunctionTool = z.infer<typeof ResponsesFunctionTool>;

export const ResponsesTools = toolList(ResponsesFunctionTool, (t) => t.name);

/** `"none" | "auto" | "required"`, one named function, or a subset of the tools (`allowed_tools`). */
export const ResponsesToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({ type: z.literal("function"), name: FunctionName }),
  z.strictObject({
    type: z.literal("allowed_tools"),
    mode: z.enum(["auto", "required"]),
    tools: z.array(z.strictObject({ type: z.literal("function"), name: FunctionName })).min(1),
  }),
]);
export type ResponsesToolChoice = z.infer<typeof ResponsesToolChoice>;

/** `text.format`: text, `{type:"json_object"}`, or `{type:"json_schema", name, schema, description?, strict?}`. */
export const TextFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    name: FunctionName,
    schema: JsonSchema,
    description: Text().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);
export type TextFormat = z.infer<typeof TextFormat>;

/** `text`: the format and `verbosity` (accepted without effect). LangChain always sends `text: {}`. */
export const ResponseTextParam = z.strictObject({
  format: TextFormat.optional(),
  verbosity: z.enum(["low", "medium", "high"]).nullable().optional(),
});
export type ResponseTextParam = z.infer<typeof ResponseTextParam>;

// ---------------------------------------------------------------------------
// Responses → Chat Completions

/** The chat form of a Responses function tool (what the upstream receives). */
export function toChatTool(t: ResponsesFunctionTool): ChatTool {
  const fn: ChatTool["function"] = { name: t.name };
  if (t.description != null) fn.description = t.description;
  if (t.parameters != null) fn.parameters = t.parameters;
  if (t.strict != null) fn.strict = t.strict;
  return { type: "function", function: fn };
}

/** The chat form of a Responses tool choice; `allowed_tools` narrows to its mode (the tool list is narrowed by the caller). */
export function toChatToolChoice(c: ResponsesToolChoice): ChatToolChoice {
  if (typeof c === "string") return c;
  if (c.type === "function") return { type: "function", function: { name: c.name } };
  return c.mode;
}

/** The chat `response_format` for a Responses `text.format`. */
export function toChatResponseFormat(f: TextFormat): ChatResponseFormat {
  if (f.type !== "json_schema") return f;
  const js: Extract<ChatResponseFormat, { type: "json_schema" }>["json_schema"] = { name: f.name, schema: f.schema };
  if (f.description !== undefined) js.description = f.description;
  if (f.strict != null) js.strict = f.strict;
  return { type: "json_schema", json_schema: js };
}
