/**
 * The whole `POST /v1/responses` body as OpenAI's spec documents it
 * (components.schemas CreateResponse with ResponseProperties,
 * ModelResponseProperties and CreateModelResponseProperties: 31 fields), so
 * every documented field is accepted and anything else is a 400 `Unknown
 * parameter` (strict). Which fields have an effect here and which are accepted
 * without effect is the route's decision (issue #10 lists them);
 * `RESPONSE_FIELDS_WITHOUT_EFFECT` names the latter.
 */
import { z } from "zod";
import { ResponsesInput } from "./content.ts";
import { Instructions, Metadata, Text } from "./schemas.ts";
import { ResponsesToolChoice, ResponsesTools, ResponseTextParam } from "./tools.ts";

/** `include` values OpenAI documents (IncludeEnum). */
export const Includable = z.enum([
  "file_search_call.results", "web_search_call.results", "web_search_call.action.sources", "message.input_image.image_url",
  "computer_call_output.output.image_url", "code_interpreter_call.outputs", "reasoning.encrypted_content", "message.output_text.logprobs",
]);

export const ReasoningParam = z.strictObject({
  effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullable().optional(),
  summary: z.enum(["auto", "concise", "detailed"]).nullable().optional(),
  generate_summary: z.enum(["auto", "concise", "detailed"]).nullable().optional(),
  context: z.enum(["auto", "current_turn", "all_turns"]).nullable().optional(),
  mode: z.string().nullable().optional(),
});
export type ReasoningParam = z.infer<typeof ReasoningParam>;

/** `conversation`: an ID or `{id}`. */
export const ConversationRef = z.union([Text().min(1), z.strictObject({ id: Text().min(1) })]);

export const CreateResponse = z.strictObject({
  model: Text().min(1).max(256).optional(),
  input: ResponsesInput.optional(),
  instructions: Instructions.nullable().optional(),
  previous_response_id: z.string().min(1).max(256).nullable().optional(),
  conversation: ConversationRef.nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullable().optional(),
  background: z.boolean().nullable().optional(),
  include: z.array(Includable).nullable().optional(),
  metadata: Metadata.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  max_output_tokens: z.number().int().min(16).max(131_072).nullable().optional(),
  max_tool_calls: z.number().int().min(1).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  tools: ResponsesTools.optional(),
  tool_choice: ResponsesToolChoice.optional(),
  text: ResponseTextParam.optional(),
  reasoning: ReasoningParam.nullable().optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"]).nullable().optional(),
  prompt_cache_key: z.string().max(1024).optional(),
  prompt_cache_retention: z.enum(["in_memory", "24h"]).nullable().optional(),
  prompt_cache_options: z.strictObject({ ttl: z.string().optional(), mode: z.string().optional() }).optional(),
  safety_identifier: z.string().max(64).optional(),
  user: z.string().max(512).optional(),
  // Stored prompts, moderation and server-side compaction need OpenAI's own services:
  // accepted as documented shapes so the route can answer a clear 400 of its own.
  prompt: z.strictObject({ id: z.string(), version: z.string().nullable().optional(), variables: z.record(z.string(), z.unknown()).nullable().optional() }).nullable().optional(),
  moderation: z.strictObject({ model: z.string(), policy: z.unknown().optional() }).nullable().optional(),
  context_management: z.array(z.looseObject({ type: z.string() })).min(1).nullable().optional(),
});
export type CreateResponse = z.infer<typeof CreateResponse>;

/** Every documented field, in the spec's order of its three parts (for the README's field table). */
export const CREATE_RESPONSE_FIELDS = Object.keys(CreateResponse.shape) as ReadonlyArray<keyof CreateResponse>;

/** Fields accepted without effect (issue #10): answered as documented, changing nothing upstream. */
export const RESPONSE_FIELDS_WITHOUT_EFFECT: ReadonlyArray<keyof CreateResponse> = [
  "service_tier", "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options", "safety_identifier", "user",
];
