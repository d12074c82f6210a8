/** Per-request helpers shared by the route files: who is asking, and which Durable Object holds what. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { BadRequestError } from "../errors.ts";
import { bodyHash, type IdempotencyKey } from "../thread/idempotency.ts";
import { DEFAULT_LIMITS as LIMITS } from "../protocol/limits.ts";
import { parseWith } from "../protocol/parse.ts";
import { isThreadId, ThreadId } from "../protocol/schemas.ts";

/** A request after the router's `before` step: its tenant and how it proved it. */
export interface AuthedRequest extends IRequest {
  tenant: string;
  /** "bearer": an API key; "ticket": an unverified WebSocket ticket the thread's object will check. */
  authVia: "bearer" | "ticket";
}

/** The tenant the router's authentication step found for this request. */
export function tenantOf(req: Request, _env: Env): string {
  const tenant = (req as Partial<AuthedRequest>).tenant;
  if (!tenant) throw new Error("request reached a handler without authentication");
  return tenant;
}

/** The Durable Object of a (tenant, thread): another tenant naming the same ID reaches a different, empty object. */
export function threadStub(env: Env, tenant: string, threadId: string) {
  return env.THREADS.get(env.THREADS.idFromName(JSON.stringify([tenant, threadId])));
}

/** A percent-encoded path segment as text; a malformed escape is left as it is (and then refused by its schema). */
export function decodePathParam(s: string | undefined): string | undefined {
  if (s === undefined) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The thread ID in the path, validated (400 naming `thread_id` if malformed). */
export function pathThreadId(req: IRequest): string {
  // The router leaves path parameters percent-encoded; clients encode the ':' of IDs such as `telegram:123`.
  const id = decodePathParam(req.params.id);
  // A valid ID (every request but a bad one) skips the schema, which is only needed to word the 400.
  return id !== undefined && isThreadId(id) ? id : parseWith(ThreadId, id, "thread_id");
}

/** The stub of the thread named in the path, for the request's tenant. */
export function pathThread(req: IRequest, env: Env) {
  return threadStub(env, tenantOf(req, env), pathThreadId(req));
}

export const created = (body: unknown) => Response.json(body, { status: 201 });

/**
 * The request's Idempotency-Key with a hash of its parsed body, or undefined.
 * A retry with the same key gets the first answer; the same key with another
 * body is a 409.
 */
export async function idempotencyOf(req: Request, body: unknown): Promise<IdempotencyKey | undefined> {
  const key = req.headers.get("idempotency-key");
  if (key === null) return undefined;
  if (key.length === 0 || key.length > LIMITS.idempotencyKeyChars) {
    throw new BadRequestError(`Idempotency-Key must be 1-${LIMITS.idempotencyKeyChars} characters.`, "Idempotency-Key");
  }
  return { key: `http:${req.method}:${new URL(req.url).pathname}:${key}`, hash: await bodyHash(body) };
}

/**
 * The ID for an object a POST creates: with an Idempotency-Key it is derived
 * from the key, so a retry reaches the same object, which recognises the key
 * (no global lookup table); otherwise `<prefix>_` and 24 random base-32 characters.
 */
export async function newObjectId(prefix: string, idem?: IdempotencyKey): Promise<string> {
  if (idem) return `${prefix}_${(await bodyHash(idem.key)).slice(0, 32)}`;
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `${prefix}_${Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz234567"[b & 31]).join("")}`;
}
