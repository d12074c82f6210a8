/** List pages and ID lookups over a thread's rows: one page() for every list, one resolveSeq() for every "this ID or 404". */
import { BadRequestError, type ApiError } from "../errors.ts";
import type { ListQuery } from "../protocol/schemas.ts";
import { seqOf } from "./shapes.ts";
import type { MessageRow, ThreadRow, ThreadStore } from "./store.ts";

/** Page size of list endpoints without `limit`. */
export const DEFAULT_LIMIT = 20;

/** The row an ID of this thread names, looked up by its seq; `missing` is thrown for a foreign, malformed or unknown ID. */
export function resolveSeq<R>(t: ThreadRow, id: string, kind: "msg" | "turn", find: (seq: number) => R | null | undefined, missing: () => ApiError): R {
  const seq = seqOf(id, kind, t.id_prefix);
  const row = seq === null ? null : find(seq);
  if (row === null || row === undefined) throw missing();
  return row;
}

/** A list cursor as a seq; any ID of this thread works, even of a deleted message. */
function cursor(t: ThreadRow, id: string, param: string): number {
  const seq = seqOf(id, "msg", t.id_prefix);
  if (seq === null) throw new BadRequestError(`'${id}' is not a message id of this thread.`, param);
  return seq;
}

/**
 * The rows of one list page (at most limit + 1), by the list query's cursors
 * and order. `within` narrows it to the open seq range of one turn's input,
 * branch messages included; otherwise only the thread's own messages count.
 */
export function page(store: ThreadStore, t: ThreadRow, q: ListQuery, defaultOrder: "asc" | "desc",
  within?: { above: number; below: number }): MessageRow[] {
  const order = q.order ?? defaultOrder;
  const after = q.after === undefined ? undefined : cursor(t, q.after, "after");
  const before = q.before === undefined ? undefined : cursor(t, q.before, "before");
  // `after` continues in the listing's order, so in desc order it bounds seq from above.
  let [above, below] = order === "asc" ? [after, before] : [before, after];
  if (within) {
    above = Math.max(within.above, above ?? within.above);
    below = Math.min(within.below, below ?? within.below);
  }
  return store.messagesPage({ above, below, order, limit: q.limit ?? DEFAULT_LIMIT, withBranches: within !== undefined });
}
