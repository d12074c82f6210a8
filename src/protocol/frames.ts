/**
 * Every frame the server sends on a thread's WebSocket, as one typed union
 * (DESIGN.md, "WebSocket protocol"): the thread's events, the snapshot a
 * connection starts with, and the answers to the client's own frames.
 */
import type { Message, Thread, ThreadEvent, Turn } from "./types.ts";

/** The first frame of a connection without a usable `after`: the thread and its newest page of messages. */
export interface SnapshotFrame {
  type: "thread.snapshot";
  seq: number;
  thread: Thread;
  messages: Message[];
  has_more: boolean;
}

/** The OpenAI-shaped error body. */
export interface ErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Answers to the frames a client sent; only the sender receives them. */
export type ReplyFrame =
  | { type: "turn.accepted"; request_id: string | null; turn: Turn }
  | { type: "turn.cancel.result"; request_id: string | null; turn: Turn }
  | { type: "pong"; request_id?: string | null }
  | { type: "error"; request_id: string | null; error: ErrorBody };

/** Any frame a thread's socket sends. */
export type ServerFrame = ThreadEvent | SnapshotFrame | ReplyFrame;

/** Whether a frame is one of the thread's log events (it has a seq and is seen by every socket). */
export function isThreadEvent(frame: ServerFrame): frame is ThreadEvent {
  return frame.type !== "thread.snapshot" && "seq" in frame && typeof frame.seq === "number";
}
