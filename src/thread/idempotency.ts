/** Idempotency-Key (REST) and request_id (WebSocket) records: a retry gets the first answer and creates nothing. */
import { ConflictError } from "../errors.ts";
import type { ThreadStore } from "./store.ts";

/** Keys are kept this long (and pruned by the object's alarm). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** SHA-256 hex of a request body's canonical JSON: a reused key must come with the same request. */
export async function bodyHash(body: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(body ?? null)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface IdempotencyKey {
  key: string;
  hash: string;
}

/** What the first request with this key recorded, or null; a key reused for another request is a 409. */
export function recall<T>(store: ThreadStore, k: IdempotencyKey | undefined): T | null {
  if (!k) return null;
  const row = store.idempotency(k.key);
  if (!row || row.created_at < Date.now() - IDEMPOTENCY_TTL_MS) return null;
  if (row.body_hash !== k.hash) {
    throw new ConflictError(`Idempotency key '${k.key.slice(0, 64)}' was already used with a different request.`, "idempotency_key_reused");
  }
  return JSON.parse(row.result) as T;
}

/** Records what a request with this key created. */
export function remember(store: ThreadStore, k: IdempotencyKey | undefined, result: unknown): void {
  if (!k) return;
  store.putIdempotency({ key: k.key, body_hash: k.hash, result: JSON.stringify(result), created_at: Date.now() });
}
