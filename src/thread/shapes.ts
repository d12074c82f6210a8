/** Row → wire-shape conversion and the opaque IDs of messages and turns. */
import type { Message, Thread, ToolCall, Turn, Usage } from "../protocol/types.ts";
import type { MessageRow, ThreadRow, TurnRow } from "./store.ts";
import type { Role } from "../protocol/schemas.ts";
import { randomBase36 } from "../encoding.ts";
import { rowContent } from "./content.ts";

/** Length of the random per-thread prefix that makes message and turn IDs unique across threads. */
export const ID_PREFIX_LENGTH = 12;

/** A message ID is msg_ + the thread's random prefix + its seq in base 36: no index needed to find it. */
export function messageId(prefix: string, seq: number): string {
  return `msg_${prefix}${seq.toString(36)}`;
}

export function turnId(prefix: string, seq: number): string {
  return `turn_${prefix}${seq.toString(36)}`;
}

/**
 * The seq a message or turn ID names in this thread, or null if it is not one
 * of this thread's IDs. For "msg", the Responses item IDs of a message count
 * too: `msg_`, `fc_` (a call, `-index`), `fco_` (a call's output) or `rs_`
 * (reasoning), with the routing suffix `_<base64url thread id>` (responses/ids.ts).
 */
export function seqOf(id: string, kind: "msg" | "turn", prefix: string): number | null {
  const head = kind === "msg" ? /^(?:msg|fco|fc|rs)_/.exec(id)?.[0] : `${kind}_`;
  if (!head || !id.startsWith(head + prefix)) return null;
  const m = ITEM_TAIL.exec(id.slice(head.length + prefix.length));
  return m ? parseInt(m[1]!, 36) : null;
}

/** The seq in base 36, then an optional call index and routing suffix. */
const ITEM_TAIL = /^([0-9a-z]{1,11})(?:-\d{1,3})?(?:_[A-Za-z0-9_-]+)?$/;

export function randomPrefix(): string {
  return randomBase36(ID_PREFIX_LENGTH);
}

const json = <T>(s: string | null, fallback: T): T => (s ? (JSON.parse(s) as T) : fallback);

export function threadShape(t: ThreadRow, busy: boolean): Thread {
  return {
    id: t.id,
    object: "thread",
    created_at: t.created_at,
    updated_at: t.updated_at,
    model: t.model,
    instructions: t.instructions,
    metadata: json(t.metadata, {}),
    params: json(t.params, {}),
    message_count: t.message_count,
    usage: { input_tokens: t.input_tokens, output_tokens: t.output_tokens },
    status: busy ? "busy" : "idle",
    expires_after: json(t.expires_after, null),
  };
}

export function messageShape(t: Pick<ThreadRow, "id" | "id_prefix">, m: MessageRow): Message {
  const { tool_calls, tool_call_id } = json<{ tool_calls?: ToolCall[]; tool_call_id?: string }>(m.extra, {});
  const extra = { ...(tool_calls ? { tool_calls } : {}), ...(tool_call_id ? { tool_call_id } : {}) };
  return {
    id: messageId(t.id_prefix, m.seq),
    object: "thread.message",
    thread_id: t.id,
    seq: m.seq,
    role: m.role as Role,
    content: rowContent(m),
    status: m.status,
    turn_id: m.turn === null ? null : turnId(t.id_prefix, m.turn),
    created_at: m.created_at,
    metadata: json(m.metadata, {}),
    usage: json<Usage | null>(m.usage, null),
    ...extra,
  };
}

export function turnShape(t: Pick<ThreadRow, "id" | "id_prefix">, r: TurnRow): Turn {
  const ids: string[] = [];
  for (let s = r.input_first; s <= r.input_last; s++) ids.push(messageId(t.id_prefix, s));
  return {
    id: turnId(t.id_prefix, r.seq),
    object: "thread.turn",
    thread_id: t.id,
    status: r.status,
    input_message_ids: ids,
    output_message_id: messageId(t.id_prefix, r.output_seq),
    model: r.model,
    usage: json<Usage | null>(r.usage, null),
    error: json(r.error, null),
    created_at: r.created_at,
    completed_at: r.completed_at,
  };
}

/** The Responses role a stored message had, when it differs from its role (a developer message is stored as system). */
export function itemRoleOf(m: MessageRow): string | undefined {
  return json<{ item_role?: string }>(m.extra, {}).item_role;
}
