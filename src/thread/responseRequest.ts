/**
 * What a Responses request becomes, whatever object it runs in: the messages
 * its input is stored as, the request kept with the response (to answer it
 * back), and what goes upstream beside the prompt (sampling, tools,
 * response_format, reasoning_effort). Fields documented but without effect
 * here are kept only to be echoed (README, "Responses fields").
 */
import { BadRequestError } from "../errors.ts";
import type { ResponseCreate, ResponseRequest } from "../protocol/openai.ts";
import { toChatResponseFormat, toChatTool, toChatToolChoice, type ChatTool } from "../protocol/tools.ts";
import { messagesOfItems, type ResolvedItem, type StoredItem } from "../responses/items.ts";

export interface PreparedResponse {
  inputs: StoredItem[];
  request: ResponseRequest;
  /** The chat params (sampling, max_tokens, tools, tool_choice, parallel_tool_calls, response_format). */
  params: Record<string, unknown> & { max_tokens?: number };
  /**
   * Sent upstream as they are: reasoning_effort (for every model: Workers AI's
   * reasoning models act on it, the OpenAI-compatible endpoint lets the others
   * ignore it), logprobs and top_logprobs.
   */
  extra: Record<string, unknown>;
}

/** The fields of `o` that are set (neither undefined nor null). */
const defined = <T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], null> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as { [K in keyof T]?: Exclude<T[K], null> };

/** Prepares a request whose item_references were resolved (the Worker replaced them by the items they name). */
export function prepareResponse(body: ResponseCreate, model: string, conversationId: string | null): PreparedResponse {
  if (body.input === undefined) throw new BadRequestError("Missing required parameter: 'input'.", "input");
  const items = (typeof body.input === "string" ? [{ role: "user" as const, content: body.input }] : body.input) as ResolvedItem[];
  const inputs = messagesOfItems(items);
  if (inputs.length === 0) throw new BadRequestError("The input has no message, function call or function call output.", "input");
  for (const [i, m] of inputs.entries()) {
    if (m.message.content === "" && !m.message.tool_calls) {
      throw new BadRequestError("Input items must have text.", typeof body.input === "string" ? "input" : `input[${i}].content`);
    }
  }
  if (body.prompt) throw new BadRequestError("Stored prompts need OpenAI's prompt library, which this server does not have.", "prompt");
  if (body.moderation) throw new BadRequestError("Moderation needs OpenAI's moderation service, which this server does not have.", "moderation");
  if (body.context_management) throw new BadRequestError("Server-side compaction is not available here.", "context_management");
  const tools = body.tools ?? [];
  const choice = body.tool_choice;
  // allowed_tools narrows the tool list sent upstream to the named functions.
  const allowed = choice && typeof choice === "object" && choice.type === "allowed_tools" ? new Set(choice.tools.map((t) => t.name)) : null;
  const chatTools: ChatTool[] = tools.filter((t) => !allowed || allowed.has(t.name)).map(toChatTool);
  const format = body.text?.format;
  const request: ResponseRequest = {
    instructions: body.instructions ?? null,
    model,
    metadata: body.metadata ?? {},
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    previous_response_id: body.previous_response_id ?? null,
    conversation: conversationId,
    store: body.store ?? true,
    ...defined({
      user: body.user, tools: tools.length ? tools : undefined, tool_choice: choice, parallel_tool_calls: body.parallel_tool_calls,
      format, verbosity: body.text?.verbosity, truncation: body.truncation, background: body.background || undefined,
      reasoning_effort: body.reasoning?.effort, max_tool_calls: body.max_tool_calls, top_logprobs: body.top_logprobs,
      prompt_cache_key: body.prompt_cache_key, safety_identifier: body.safety_identifier,
    }),
  };
  const params = defined({
    temperature: body.temperature, top_p: body.top_p, max_tokens: body.max_output_tokens,
    tools: chatTools.length ? chatTools : undefined,
    tool_choice: chatTools.length && choice ? toChatToolChoice(choice) : undefined,
    parallel_tool_calls: chatTools.length ? body.parallel_tool_calls : undefined,
    response_format: format && format.type !== "text" ? toChatResponseFormat(format) : undefined,
  }) as PreparedResponse["params"];
  const extra = defined({
    reasoning_effort: body.reasoning?.effort && body.reasoning.effort !== "none" ? effortFor(body.reasoning.effort) : undefined,
    ...(body.top_logprobs ? { logprobs: true, top_logprobs: body.top_logprobs } : {}),
  });
  return { inputs, request, params, extra };
}

/** OpenAI's efforts beyond chat's low/medium/high are sent as the nearest one chat knows. */
function effortFor(effort: string): string {
  if (effort === "minimal") return "low";
  if (effort === "xhigh" || effort === "max") return "high";
  return effort;
}
