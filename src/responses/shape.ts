/** Building OpenAI's Response object from what a thread stores. */
import type { CheckedResponse, OutputItem, ResponseObject, ResponseRequest, ResponseStatus, ResponseUsage } from "../protocol/openai.ts";
import type { Turn } from "../protocol/types.ts";

const STATUS: Record<Turn["status"], ResponseStatus> = {
  queued: "queued", in_progress: "in_progress", completed: "completed", requires_action: "completed",
  incomplete: "incomplete", failed: "failed", cancelled: "cancelled",
};

/**
 * OpenAI's ResponseErrorCode is a closed list (server_error, rate_limit_exceeded,
 * invalid_prompt, image codes…): our own code is mapped onto it and kept in the message.
 */
export function openaiErrorCode(code: string | null, type: string): string {
  if (code === "rate_limit_exceeded" || code === "upstream_rate_limited" || type === "rate_limit_error") return "rate_limit_exceeded";
  if (type === "invalid_request_error" || code === "context_length_exceeded") return "invalid_prompt";
  return "server_error";
}

/**
 * The usage of a Response, with every detail the spec requires. There is no
 * prompt cache here, and the upstream's usage does not separate reasoning
 * tokens (they are counted in output_tokens), so those details are 0.
 */
function responseUsage(u: { input_tokens: number; output_tokens: number }): ResponseUsage {
  return {
    input_tokens: u.input_tokens, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: u.output_tokens, output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input_tokens + u.output_tokens,
  };
}

/** A tool as the Response echoes it: the spec requires `parameters` and `strict` (null when not given). */
function toolsOf(req: ResponseRequest): ResponseObject["tools"] {
  return (req.tools ?? []).map((t) => ({ type: "function", name: t.name, ...(t.description != null ? { description: t.description } : {}),
    parameters: t.parameters ?? null, strict: t.strict ?? null }));
}

/** The Response object for a turn, its request and its output items (none until the reply is written). */
export function responseObject(id: string, turn: Pick<Turn, "status" | "model" | "usage" | "error" | "created_at"> & { completed_at?: number | null },
  req: ResponseRequest, output: OutputItem[]): ResponseObject {
  const text = output.flatMap((i) => (i.type === "message" ? i.content.map((c) => c.text) : [])).join("");
  const r = {
    id, object: "response", created_at: turn.created_at, status: STATUS[turn.status], background: req.background ?? false,
    ...(turn.completed_at !== undefined ? { completed_at: turn.completed_at } : {}),
    error: turn.error
      ? { code: openaiErrorCode(turn.error.code, turn.error.type), message: `${turn.error.message}${turn.error.code ? ` (${turn.error.code})` : ""}` }
      : null,
    incomplete_details: turn.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: req.instructions, max_output_tokens: req.max_output_tokens, model: turn.model,
    ...(req.max_tool_calls != null ? { max_tool_calls: req.max_tool_calls } : {}),
    output, output_text: text, parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id, conversation: req.conversation ? { id: req.conversation } : null,
    ...(req.reasoning_effort ? { reasoning: { effort: req.reasoning_effort, summary: null } } : {}),
    service_tier: "default", store: req.store, temperature: req.temperature, top_p: req.top_p,
    ...(req.top_logprobs != null ? { top_logprobs: req.top_logprobs } : {}),
    text: { format: req.format ?? { type: "text" }, ...(req.verbosity ? { verbosity: req.verbosity } : {}) },
    tool_choice: req.tool_choice ?? "auto", tools: toolsOf(req), truncation: req.truncation ?? "auto",
    ...(turn.usage ? { usage: responseUsage(turn.usage) } : {}),
    metadata: req.metadata,
    ...(req.user ? { user: req.user } : {}),
    ...(req.prompt_cache_key ? { prompt_cache_key: req.prompt_cache_key } : {}),
    ...(req.safety_identifier ? { safety_identifier: req.safety_identifier } : {}),
  } satisfies CheckedResponse & ResponseObject;
  return r;
}
