/**
 * A tenant's thread index, spread over DIRECTORY_SHARDS DirectoryObjects chosen
 * by a hash of the thread ID, so that the index's write rate grows with the
 * number of shards instead of stopping at what one object serves (on the order
 * of 1,000 requests a second). A listing asks every shard for its first page
 * and merges them in the listing's order, so order and cursors are those of one
 * index.
 */
import type { Env } from "../env.ts";
import { BadRequestError } from "../errors.ts";
import type { ListQuery } from "../protocol/schemas.ts";
import { listOf, type List } from "../protocol/types.ts";
import { callIdempotent } from "../stubs.ts";
import type { DirectoryObject, Position } from "./DirectoryObject.ts";

/**
 * Shards per tenant. Never change this on a deployment that holds data: an
 * entry lives in the shard its ID hashes to, so another count would look for
 * existing entries in the wrong objects.
 */
export const DIRECTORY_SHARDS = 16;

/** The shard (0 ≤ n < DIRECTORY_SHARDS) a thread ID belongs to: 32-bit FNV-1a over its UTF-16 units. */
export function shardOf(threadId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < threadId.length; i++) {
    h ^= threadId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % DIRECTORY_SHARDS;
}

/** The stub of one shard of a tenant's directory. */
export function shardStub(env: Env, tenant: string, shard: number): DurableObjectStub<DirectoryObject> {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName(JSON.stringify([tenant, shard])));
}

/** The stub of the shard that holds a thread's directory entry. */
export function directoryShardOf(env: Env, tenant: string, threadId: string): DurableObjectStub<DirectoryObject> {
  return shardStub(env, tenant, shardOf(threadId));
}

/** Listing order: activity, then ID (as each shard's SQLite index orders them; IDs are ASCII). */
function compare(a: Position, b: Position): number {
  return a.activity_ms - b.activity_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * A page of the tenant's thread IDs in activity order (desc: most recent
 * first). A cursor is a thread ID, looked up in its own shard; one that is not
 * in the index (deleted since) is a 400. Every shard then answers its first
 * limit + 1 rows past the cursors, and the merge keeps the first limit + 1.
 */
export async function listThreadIds(env: Env, tenant: string, q: ListQuery): Promise<List<{ id: string }>> {
  const limit = q.limit ?? 20;
  const desc = (q.order ?? "desc") === "desc";
  const position = async (id: string | undefined, param: "after" | "before") => {
    if (id === undefined) return undefined;
    const found = await callIdempotent(() => directoryShardOf(env, tenant, id), (s) => s.position(id));
    if (!found) throw new BadRequestError(`No thread found with id '${id}' to page from.`, param);
    return found;
  };
  const [after, before] = await Promise.all([position(q.after, "after"), position(q.before, "before")]);
  const pages = await Promise.all(
    Array.from({ length: DIRECTORY_SHARDS }, (_, n) => callIdempotent(() => shardStub(env, tenant, n), (s) => s.page({ desc, limit, after, before }))),
  );
  const rows = pages.flat().sort((a, b) => (desc ? compare(b, a) : compare(a, b)));
  return listOf(rows.slice(0, limit + 1).map(({ id }) => ({ id })), limit);
}
