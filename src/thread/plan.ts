/** Turn planning: which model, how many tokens the reply may take, and how much room the prompt has. Pure. */
import { BadRequestError } from "../errors.ts";
import type { Params } from "../protocol/schemas.ts";
import { contextWindow, DEFAULT_MAX_TOKENS, DEV_MODEL } from "../upstream/models.ts";
import { estimateTokens } from "../upstream/tokens.ts";
import type { ChatContent } from "../protocol/content.ts";
import { contentTokens } from "./content.ts";

export interface PlanRequest {
  /** True when the built-in dev/echo model answers: it then serves every model name. */
  dev: boolean;
  /** The model asked for (the request's, else the thread's). */
  model: string;
  /** Sampling parameters, max_tokens included. */
  params: Params;
  /** The instructions this turn is sent with (null: none). */
  instructions: string | null;
  /**
   * The contents of the turn's input messages, which must fit beside the
   * instructions and max_tokens; read (and so validated) only once max_tokens has passed.
   */
  inputs: () => ChatContent[];
  /**
   * Tokens of stored rows that must go upstream with the input (the call message that tool
   * results answer, and its results already stored); read after `inputs` (default: none).
   */
  alongside?: () => number;
  /** What the request calls max_tokens, for the error when it leaves no room ("params.max_tokens", "max_output_tokens"). */
  maxTokensParam: string;
}

export interface TurnPlan {
  model: string;
  maxTokens: number;
  /** Tokens the prompt may take: the context window less max_tokens. */
  budget: number;
  /** The sampling parameters sent upstream besides max_tokens. */
  sampling: Omit<Params, "max_tokens">;
}

/**
 * Plans a turn that calls the upstream, or throws the 400 that refuses it:
 * max_tokens must leave room in the model's context window, and the input
 * must fit beside the instructions and max_tokens (history is trimmed later;
 * the input itself never is).
 */
export function planTurn(r: PlanRequest): TurnPlan {
  const model = r.dev ? DEV_MODEL : r.model;
  const { max_tokens, ...sampling } = r.params;
  const maxTokens = max_tokens ?? DEFAULT_MAX_TOKENS;
  const window = contextWindow(model);
  if (maxTokens >= window) {
    throw new BadRequestError(`max_tokens (${maxTokens}) must be below the model's context window of ${window} tokens.`, r.maxTokensParam);
  }
  const inputTokens = r.inputs().reduce((n, c) => n + contentTokens(c), 0) + (r.alongside?.() ?? 0);
  const room = window - maxTokens - (r.instructions ? estimateTokens(r.instructions) : 0);
  if (inputTokens > room) {
    throw new BadRequestError(
      `The input (with the tool call it answers, if any) is about ${inputTokens} tokens; the model ${model} has room for ${room} after the instructions and max_tokens.`,
      "input", "context_length_exceeded",
    );
  }
  return { model, maxTokens, budget: window - maxTokens, sampling };
}
