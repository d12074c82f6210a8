/**
 * Response IDs route to their Durable Object without any global index: the ID
 * carries the thread's ID (base64url) and the turn within it.
 * Format: resp_<turn suffix>_<base64url(thread id)>.
 */
import { b64url, unb64urlText } from "../encoding.ts";
import { BadRequestError } from "../errors.ts";
import { THREAD_ID_PATTERN } from "../protocol/schemas.ts";

/** The response ID of a thread's turn (turnId is `turn_<suffix>`). */
export function responseId(threadId: string, turnId: string): string {
  return `resp_${turnId.slice("turn_".length)}_${b64url(threadId)}`;
}

/** The thread and turn a response ID names, or null if it is not one of ours. */
export function parseResponseId(id: string): { threadId: string; turnId: string } | null {
  const m = /^resp_([0-9a-z]+)_([A-Za-z0-9_-]+)$/.exec(id);
  if (!m) return null;
  const threadId = unb64urlText(m[2]!);
  if (!threadId || !THREAD_ID_PATTERN.test(threadId)) return null;
  return { threadId, turnId: `turn_${m[1]}` };
}

/** Like parseResponseId, but a malformed ID is a 400 naming `param`. */
export function requireResponseId(id: string, param: string): { threadId: string; turnId: string } {
  const parsed = parseResponseId(id);
  if (!parsed) throw new BadRequestError(`'${id.slice(0, 80)}' is not a valid response id.`, param);
  return parsed;
}
