/** Wire shapes of the native thread API (DESIGN.md, "Native threads"). */
import type { ChatContent } from "./content.ts";
import type { ExpiresAfter, Metadata, Params, Role } from "./schemas.ts";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface Thread {
  id: string;
  object: "thread";
  created_at: number;
  updated_at: number;
  model: string;
  instructions: string | null;
  metadata: Metadata;
  params: Params;
  message_count: number;
  usage: Usage;
  status: "idle" | "busy";
  expires_after: ExpiresAfter | null;
}

export type MessageStatus = "completed" | "in_progress" | "incomplete" | "failed";

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface Message {
  id: string;
  object: "thread.message";
  thread_id: string;
  seq: number;
  role: Role;
  /** A string, or the text and image_url parts it was sent as. */
  content: ChatContent;
  status: MessageStatus;
  turn_id: string | null;
  created_at: number;
  metadata: Metadata;
  usage: Usage | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

/** `requires_action`: the reply called tools; the turn has ended and waits for tool messages with their results. */
export type TurnStatus = "queued" | "in_progress" | "completed" | "requires_action" | "incomplete" | "failed" | "cancelled";

export interface Turn {
  id: string;
  object: "thread.turn";
  thread_id: string;
  status: TurnStatus;
  input_message_ids: string[];
  output_message_id: string;
  model: string;
  usage: Usage | null;
  error: { message: string; type: string; param: string | null; code: string | null } | null;
  created_at: number;
  completed_at: number | null;
}

/** The non-streaming answer to POST /v1/threads/{id}/turns: the turn and the message it wrote. */
export interface TurnResult extends Turn {
  output: Message | null;
}

export interface List<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Builds the list shape from at most limit + 1 rows (the extra row only says has_more). */
export function listOf<T extends { id: string }>(rows: T[], limit: number): List<T> {
  const data = rows.slice(0, limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
}

/** Events of a thread's log; every one carries the thread's next seq. */
export type ThreadEvent =
  | { type: "turn.created" | "turn.started" | "turn.completed" | "turn.requires_action" | "turn.incomplete" | "turn.failed" | "turn.cancelled"; seq: number; thread_id: string; turn: Turn }
  | { type: "message.created" | "message.completed"; seq: number; thread_id: string; message: Message }
  | { type: "message.delta"; seq: number; thread_id: string; message_id: string; turn_id: string; delta: string }
  /** A fragment of the arguments of tool call `index` of a reply (several per call). */
  | { type: "message.tool_call.delta"; seq: number; thread_id: string; message_id: string; turn_id: string; index: number; call_id: string; name: string; delta: string }
  /** A fragment of the reasoning text the upstream streamed before the reply (kept with it, never sent back upstream). */
  | { type: "message.reasoning.delta"; seq: number; thread_id: string; message_id: string; turn_id: string; delta: string }
  | { type: "message.deleted"; seq: number; thread_id: string; message_id: string }
  | { type: "thread.updated"; seq: number; thread_id: string; thread: Thread }
  | { type: "thread.deleted"; seq: number; thread_id: string };

/** A ThreadEvent before the log gives it its seq and thread_id. */
export type NewEvent = ThreadEvent extends infer E ? (E extends ThreadEvent ? Omit<E, "seq" | "thread_id"> : never) : never;

/** What a DELETE answers. */
export type Deleted<T extends string> = { id: string; object: T; deleted: true };

/** The error object of an OpenAI-shaped error body. */
export interface ErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The first frame of a connection without a usable `after`: the thread and its newest page of messages. */
export interface SnapshotFrame {
  type: "thread.snapshot";
  seq: number;
  thread: Thread;
  messages: Message[];
  has_more: boolean;
}

/** Answers to the frames a client sent; only the sender receives them. */
export type ReplyFrame =
  | { type: "pong"; request_id: string | null }
  | { type: "turn.accepted"; request_id: string | null; turn: Turn }
  | { type: "turn.cancel.result"; request_id: string | null; turn: Turn }
  | { type: "error"; request_id: string | null; error: ErrorObject };

/** Every frame the server sends on a thread's WebSocket: the thread's events, the snapshot, and the answers to client frames. */
export type ServerFrame = ThreadEvent | SnapshotFrame | ReplyFrame;
