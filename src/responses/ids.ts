/**
 * Response IDs route to their Durable Object without any global index: the ID
 * carries the thread's ID (base64url) and the turn within it.
 * Format: resp_<turn suffix>_<base64url(thread id)>.
 */
import { b64url, unb64urlText } from "../encoding.ts";
import { THREAD_ID_PATTERN } from "../protocol/schemas.ts";

/** The response ID of a thread's turn (turnId is `turn_<suffix>`). */
export function responseId(threadId: string, turnId: string): string {
  return `resp_${turnId.slice("turn_".length)}_${b64url(threadId)}`;
}

/** The thread and turn a response ID names, or null if it is not one of ours. */
export function parseResponseId(id: string): { threadId: string; turnId: string } | null {
  const m = /^resp_([0-9a-z]+)_([A-Za-z0-9_-]+)$/.exec(id);
  if (!m) return null;
  const threadId = threadOf(m[2]!);
  return threadId ? { threadId, turnId: `turn_${m[1]}` } : null;
}

/** The kinds of Responses items a stored message becomes: its text, a call it made, a call's output, its reasoning. */
export type ItemKind = "msg" | "fc" | "fco" | "rs";

/**
 * The Responses item ID of a stored message (messageId is `msg_<suffix>`):
 * `<kind>_<suffix>[-<call index>]_<base64url(thread id)>`. Like a response ID it
 * names its object, so an `item_reference` finds its item with no global index,
 * even in a request with neither previous_response_id nor conversation.
 */
export function itemId(kind: ItemKind, threadId: string, messageId: string, index?: number): string {
  return `${kind}_${messageId.slice("msg_".length)}${index === undefined ? "" : `-${index}`}_${b64url(threadId)}`;
}

/** The thread, message and call index an item ID names, or null if it is not one of ours. */
export function parseItemId(id: string): { kind: ItemKind; threadId: string; messageId: string; index: number | null } | null {
  const m = /^(msg|fco|fc|rs)_([0-9a-z]+)(?:-(\d{1,3}))?_([A-Za-z0-9_-]+)$/.exec(id);
  if (!m) return null;
  const threadId = threadOf(m[4]!);
  if (!threadId) return null;
  return { kind: m[1] as ItemKind, threadId, messageId: `msg_${m[2]}`, index: m[3] === undefined ? null : Number(m[3]) };
}

/** The thread ID a base64url part names, if it is a valid one (as ThreadId checks it: not dots only). */
function threadOf(part: string): string | null {
  const id = unb64urlText(part);
  return id && THREAD_ID_PATTERN.test(id) && !/^\.+$/.test(id) ? id : null;
}
