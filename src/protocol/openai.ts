/** Zod schemas and wire shapes of the OpenAI-compatible Conversations and Responses surface. */
import type { Conversation as OpenAIConversation, Message as OpenAIMessage } from "openai/resources/conversations/conversations";
import type { Response as OpenAIResponse } from "openai/resources/responses/responses";
import { z } from "zod";
import { ExpiresAfter, Instructions, Metadata, Text } from "./schemas.ts";

/** Most items in one conversations.create or items.create call (OpenAI's limit). */
export const MAX_ITEMS_PER_CALL = 20;

const TextPart = z.object({
  type: z.enum(["input_text", "output_text"]),
  text: Text(),
  annotations: z.array(z.unknown()).optional(),
  logprobs: z.array(z.unknown()).optional(),
}).strict();

/** A message item as clients send it: EasyInputMessage (`{role, content}`) or a full message item. */
export const MessageItemInput = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([Text(), z.array(TextPart).min(1, "must not be empty")]),
  // Present when a client sends back an item it received (e.g. a response's output); ignored.
  id: z.string().max(256).optional(),
  status: z.enum(["in_progress", "completed", "incomplete"]).optional(),
}).strict();
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

const ConversationRef = z.union([z.string().min(1).max(256), z.strictObject({ id: z.string().min(1).max(256) })]);

export const ResponseCreate = z.strictObject({
  input: z.union([Text(), z.array(MessageItemInput).min(1, "must not be empty")]),
  instructions: Instructions.nullable().optional(),
  model: Text().min(1).max(256).optional(),
  conversation: ConversationRef.nullable().optional(),
  previous_response_id: z.string().min(1).max(512).nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  max_output_tokens: z.number().int().min(16).max(131_072).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  metadata: Metadata.nullable().optional(),
  // Accepted because they change nothing here: there are no tools, text is plain, and truncation is automatic.
  user: z.string().max(512).optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
  text: z.strictObject({ format: z.strictObject({ type: z.literal("text") }).optional() }).optional(),
  include: z.array(z.string()).nullable().optional(),
});
export type ResponseCreate = z.infer<typeof ResponseCreate>;

/** Content part of an item on the wire. */
export type ItemContent =
  | { type: "input_text"; text: string }
  | { type: "output_text"; text: string; annotations: never[]; logprobs: never[] };

/** A conversation or response item on the wire (messages only: this deployment has no tools). */
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
}

export type ResponseStatus = "completed" | "failed" | "in_progress" | "cancelled" | "queued" | "incomplete";

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputMessageItem[];
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  store: boolean;
  temperature: number | null;
  top_p: number | null;
  text: { format: { type: "text" } };
  tool_choice: "auto";
  tools: [];
  truncation: "disabled" | "auto";
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  } | null;
  metadata: Record<string, string>;
  user?: string;
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
export type CheckedResponse = Pick<OpenAIResponse, Exclude<keyof ResponseObject & keyof OpenAIResponse, "error" | "usage">>;
