/** Zod schemas and wire shapes of the OpenAI-compatible Conversations and Responses surface. */
import type { Conversation as OpenAIConversation, Message as OpenAIMessage } from "openai/resources/conversations/conversations";
import type { Response as OpenAIResponse } from "openai/resources/responses/responses";
import { z } from "zod";
import { FunctionCallItem, FunctionCallOutputItem, MessageItem as MessageItemSchema } from "./content.ts";
import { CreateResponse } from "./create-response.ts";
import { ExpiresAfter, Metadata } from "./schemas.ts";
import type { ResponsesFunctionTool, ResponsesToolChoice, TextFormat } from "./tools.ts";

/** Most items in one conversations.create or items.create call (OpenAI's limit). */
export const MAX_ITEMS_PER_CALL = 20;

/** An item a conversation can hold: a message, a function call, or a call's output (content.ts has their schemas). */
export const MessageItemInput = z.union([FunctionCallItem, FunctionCallOutputItem, MessageItemSchema]);
export type MessageItemInput = z.infer<typeof MessageItemInput>;

export const ConversationCreate = z.strictObject({
  metadata: Metadata.nullable().optional(),
  /** Our extension: delete the conversation after this long idle (as for threads). */
  expires_after: ExpiresAfter.nullable().optional(),
  items: z.array(MessageItemInput).max(MAX_ITEMS_PER_CALL, `at most ${MAX_ITEMS_PER_CALL} items`).nullable().optional(),
});
export type ConversationCreate = z.infer<typeof ConversationCreate>;

export const ConversationUpdate = z.strictObject({
  metadata: Metadata.nullable().optional(),
  expires_after: ExpiresAfter.nullable().optional(),
});

export const ItemsCreate = z.strictObject({
  items: z.array(MessageItemInput).min(1, "must not be empty").max(MAX_ITEMS_PER_CALL, `at most ${MAX_ITEMS_PER_CALL} items`),
});

/** The whole documented CreateResponse body (create-response.ts). */
export const ResponseCreate = CreateResponse;
export type ResponseCreate = CreateResponse;

/** Content part of an item on the wire. */
export type ItemContent =
  | { type: "input_text"; text: string }
  | { type: "input_image"; image_url: string; detail: "auto" | "low" | "high" }
  | { type: "output_text"; text: string; annotations: never[]; logprobs: never[] };

/** A message item of a conversation or response. */
export interface MessageItem {
  type: "message";
  id: string;
  status: "completed" | "in_progress" | "incomplete";
  role: "user" | "assistant" | "system" | "developer";
  content: ItemContent[];
}

/** A reply as a response's output item: an assistant message of output text. */
export interface OutputMessageItem extends MessageItem {
  role: "assistant";
  content: Extract<ItemContent, { type: "output_text" }>[];
}

/** A call the model made. */
export interface FunctionCallOutItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "completed" | "in_progress" | "incomplete";
}

/** The result of a call, as the client sent it. */
export interface FunctionCallResultItem {
  type: "function_call_output";
  id: string;
  call_id: string;
  output: string | Exclude<ItemContent, { type: "output_text" }>[];
  status: "completed" | "in_progress" | "incomplete";
}

/** Reasoning the upstream streamed before its reply (never sent back upstream). */
export interface ReasoningOutItem {
  type: "reasoning";
  id: string;
  summary: never[];
  content: { type: "reasoning_text"; text: string }[];
  status: "completed" | "in_progress" | "incomplete";
}

/** Any item of a conversation or response. */
export type AnyItem = MessageItem | FunctionCallOutItem | FunctionCallResultItem | ReasoningOutItem;

/** What a response's output may hold. */
export type OutputItem = OutputMessageItem | FunctionCallOutItem | ReasoningOutItem;

export interface Conversation {
  id: string;
  object: "conversation";
  created_at: number;
  metadata: Record<string, string>;
}

/** What a stored response remembers of its request; the rest of the Response object comes from its turn. */
export interface ResponseRequest {
  instructions: string | null;
  model: string;
  metadata: Record<string, string>;
  temperature: number | null;
  top_p: number | null;
  max_output_tokens: number | null;
  previous_response_id: string | null;
  conversation: string | null;
  store: boolean;
  user?: string;
  /** The rest is kept only when the request set it (older rows have none of it). */
  tools?: ResponsesFunctionTool[];
  tool_choice?: ResponsesToolChoice;
  parallel_tool_calls?: boolean;
  format?: TextFormat;
  verbosity?: "low" | "medium" | "high" | null;
  truncation?: "auto" | "disabled";
  background?: boolean;
  reasoning_effort?: string | null;
  max_tool_calls?: number | null;
  top_logprobs?: number | null;
  prompt_cache_key?: string;
  safety_identifier?: string;
}

export type ResponseStatus = "completed" | "failed" | "in_progress" | "cancelled" | "queued" | "incomplete";

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  completed_at?: number | null;
  status: ResponseStatus;
  background: boolean;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls?: number | null;
  model: string;
  output: OutputItem[];
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  reasoning?: { effort: string | null; summary: null };
  service_tier: "default";
  store: boolean;
  temperature: number | null;
  top_p: number | null;
  top_logprobs?: number | null;
  text: { format: TextFormat; verbosity?: "low" | "medium" | "high" | null };
  tool_choice: ResponsesToolChoice;
  tools: (Omit<ResponsesFunctionTool, "parameters" | "strict" | "description"> & { parameters: Record<string, unknown> | null; strict: boolean | null; description?: string | null })[];
  truncation: "disabled" | "auto";
  /** Left out until there is one (the spec types it as an object, not nullable). */
  usage?: ResponseUsage;
  metadata: Record<string, string>;
  user?: string;
  prompt_cache_key?: string;
  safety_identifier?: string;
}

/*
 * The shapes above are checked against the openai package's own types where
 * they are built (`satisfies` in thread/conversations.ts and responses/shape.ts),
 * so a field that drifts from what the SDK reads fails the typecheck.
 */
export type { OpenAIConversation, OpenAIMessage };

/**
 * The Response fields the SDK's type can check. Left out: `error` (our codes,
 * such as upstream_error, are not in OpenAI's code enum) and `usage` (null
 * while a response runs, where the SDK's type has it optional).
 */
export type CheckedResponse = Pick<OpenAIResponse, Exclude<keyof ResponseObject & keyof OpenAIResponse,
  "error" | "usage" | "output" | "tools" | "tool_choice" | "text" | "reasoning" | "background" | "service_tier" | "conversation" | "completed_at">>;
