/**
 * Zod schemas of what the API answers, for the OpenAPI document only (answers
 * are built by code, not parsed). The native shapes are checked against the
 * TypeScript types in types.ts at compile time, both ways, so the document
 * cannot drift from what the handlers return.
 */
import { z } from "zod";
import { ChatContent } from "./content.ts";
import { ExpiresAfter, Metadata, Params, Role } from "./schemas.ts";
import type * as Wire from "./types.ts";

export const Usage = z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() });

export const ErrorBody = z.object({
  message: z.string(),
  type: z.string().meta({ examples: ["invalid_request_error"] }),
  param: z.string().nullable(),
  code: z.string().nullable(),
});
export const ErrorResponse = z.object({ error: ErrorBody });

export const Thread = z.object({
  id: z.string(),
  object: z.literal("thread"),
  created_at: z.number().int().meta({ description: "Unix seconds" }),
  updated_at: z.number().int(),
  model: z.string(),
  instructions: z.string().nullable(),
  metadata: Metadata,
  params: Params,
  message_count: z.number().int(),
  usage: Usage,
  status: z.enum(["idle", "busy"]),
  expires_after: ExpiresAfter.nullable(),
});

const ToolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const Message = z.object({
  id: z.string(),
  object: z.literal("thread.message"),
  thread_id: z.string(),
  seq: z.number().int(),
  role: Role,
  content: ChatContent.meta({ description: "A string, or the text and image_url parts it was sent as" }),
  status: z.enum(["completed", "in_progress", "incomplete", "failed"]),
  turn_id: z.string().nullable(),
  created_at: z.number().int(),
  metadata: Metadata,
  usage: Usage.nullable(),
  tool_calls: z.array(ToolCall).optional(),
  tool_call_id: z.string().optional(),
});

export const Turn = z.object({
  id: z.string(),
  object: z.literal("thread.turn"),
  thread_id: z.string(),
  status: z.enum(["queued", "in_progress", "completed", "requires_action", "incomplete", "failed", "cancelled"]),
  input_message_ids: z.array(z.string()),
  output_message_id: z.string(),
  model: z.string(),
  usage: Usage.nullable(),
  error: ErrorBody.nullable(),
  created_at: z.number().int(),
  completed_at: z.number().int().nullable(),
});

export const TurnResult = Turn.extend({ output: Message.nullable() });

/** The cursor-list shape every list endpoint answers with. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal("list"), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });

export const Deleted = z.object({ id: z.string(), object: z.string().meta({ examples: ["thread.deleted"] }), deleted: z.literal(true) });

export const WsTicket = z.object({
  object: z.literal("thread.ws_ticket"),
  ticket: z.string(),
  expires_at: z.number().int(),
  url: z.string().meta({ description: "Path of the socket with the ticket in its query" }),
});

/** OpenAI's Conversation object. */
export const Conversation = z.object({
  id: z.string(),
  object: z.literal("conversation"),
  created_at: z.number().int(),
  metadata: Metadata,
}).loose();

const ItemStatus = z.enum(["completed", "in_progress", "incomplete"]);

/** An item of a conversation or response (OpenAI's Responses item shapes): a message, a function call or its output, reasoning. */
export const Item = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("message"),
    id: z.string(),
    status: ItemStatus,
    role: z.enum(["user", "assistant", "system", "developer"]),
    content: z.array(z.object({ type: z.enum(["input_text", "input_image", "output_text"]) }).loose()),
  }).loose(),
  z.object({ type: z.literal("function_call"), id: z.string(), call_id: z.string(), name: z.string(), arguments: z.string(), status: ItemStatus }).loose(),
  z.object({ type: z.literal("function_call_output"), id: z.string(), call_id: z.string(), output: z.unknown(), status: ItemStatus }).loose(),
  z.object({ type: z.literal("reasoning"), id: z.string(), summary: z.array(z.unknown()) }).loose(),
]);

/** OpenAI's Response object (the fields this server fills; see OpenAI's spec for the rest). */
export const ResponseObject = z.object({
  id: z.string(),
  object: z.literal("response"),
  created_at: z.number().int(),
  status: z.enum(["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]),
  model: z.string(),
  output: z.array(Item),
  previous_response_id: z.string().nullable(),
  conversation: z.object({ id: z.string() }).nullable().optional(),
  usage: z.unknown().nullable(),
  metadata: Metadata.nullable(),
}).loose();

export const Model = z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() });

export const ThreadList = listOf(Thread);
export const MessageList = listOf(Message);
export const ItemList = listOf(Item);
export const ModelList = listOf(Model);

/** A body passed on to the upstream as sent, and its answer passed back as sent (OpenAI's shapes). */
export const Opaque = z.looseObject({});

// Compile-time proof that the documented shapes are the returned ones (each direction must hold).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [Same<z.infer<typeof Thread>, Wire.Thread>, Same<z.infer<typeof Message>, Wire.Message>, Same<z.infer<typeof Turn>, Wire.Turn>,
  Same<z.infer<typeof TurnResult>, Wire.TurnResult>] = [true, true, true, true];
void sameShapes;
