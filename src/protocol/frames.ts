/**
 * The WebSocket frames for clients (DESIGN.md, "WebSocket protocol"): the one
 * ServerFrame union lives in types.ts; this file names its parts for the client
 * library and the page, and tells log events from replies.
 */
import type { ErrorObject, ServerFrame, ThreadEvent } from "./types.ts";

export type { ReplyFrame, ServerFrame, SnapshotFrame } from "./types.ts";

/** The OpenAI-shaped error body. */
export type ErrorBody = ErrorObject;

/** Whether a frame is one of the thread's log events (it has a seq and is seen by every socket). */
export function isThreadEvent(frame: ServerFrame): frame is ThreadEvent {
  return frame.type !== "thread.snapshot" && "seq" in frame && typeof frame.seq === "number";
}
