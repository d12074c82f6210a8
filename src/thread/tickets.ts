/**
 * WebSocket tickets: browsers cannot set headers on a WebSocket, so they trade
 * their API key for a ticket first. A ticket names its tenant, thread and expiry
 * and is signed (HMAC-SHA-256, with a key derived from this deployment's
 * API_KEYS secret), so the Worker rejects a forged or stale one before any
 * Durable Object is woken; the thread's object makes it single-use.
 */
import { b64url, unb64url } from "../encoding.ts";
import type { Env } from "../env.ts";
import { AuthenticationError } from "../errors.ts";
import { bodyHash } from "./idempotency.ts";
import type { ThreadRow, ThreadStore } from "./store.ts";

/** How long a ticket is valid. */
export const TICKET_TTL_MS = 60_000;

const enc = new TextEncoder();

/** The signing key: derived from the API_KEYS secret, so rotating the keys also retires every ticket. */
async function signingKey(env: Env): Promise<CryptoKey> {
  const material = await crypto.subtle.digest("SHA-256", enc.encode(`durable-threads ws-ticket\n${env.API_KEYS ?? ""}`));
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

interface TicketClaims {
  /** tenant */
  t: string;
  /** thread id */
  h: string;
  /** expiry, Unix ms */
  e: number;
  /** nonce */
  n: string;
}

/** A new signed ticket for (tenant, thread), valid until expiresAt. */
export async function newTicket(env: Env, tenant: string, threadId: string, expiresAt: number): Promise<string> {
  const claims: TicketClaims = { t: tenant, h: threadId, e: expiresAt, n: b64url(crypto.getRandomValues(new Uint8Array(16))) };
  const payload = b64url(JSON.stringify(claims));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await signingKey(env), enc.encode(payload)));
  return `wst_${payload}.${b64url(sig)}`;
}

/** The tenant of a valid ticket for this thread; anything else (forged, expired, another thread's) is a 401. */
export async function verifyTicket(env: Env, ticket: string, threadId: string): Promise<string> {
  const invalid = new AuthenticationError("Invalid or expired WebSocket ticket.");
  const m = /^wst_([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  if (!m) throw invalid;
  let claims: TicketClaims;
  try {
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify("HMAC", await signingKey(env), unb64url(m[2]!), enc.encode(m[1]!)))) throw invalid;
    claims = JSON.parse(new TextDecoder().decode(unb64url(m[1]!))) as TicketClaims;
  } catch {
    throw invalid;
  }
  if (typeof claims.t !== "string" || claims.h !== threadId || typeof claims.e !== "number" || claims.e <= Date.now()) throw invalid;
  return claims.t;
}

/** What POST …/ws-tickets answers. */
export interface TicketIssued {
  object: "thread.ws_ticket";
  ticket: string;
  expires_at: number;
  url: string;
}

/** Issues a single-use ticket for this thread, valid for TICKET_TTL_MS; only its hash is stored. */
export async function issueTicket(env: Env, store: ThreadStore, t: ThreadRow): Promise<TicketIssued> {
  const expiresAt = Date.now() + TICKET_TTL_MS;
  const ticket = await newTicket(env, t.tenant, t.id, expiresAt);
  store.pruneTickets(Date.now());
  store.insertTicket(await bodyHash(ticket), expiresAt);
  return { object: "thread.ws_ticket", ticket, expires_at: Math.floor(expiresAt / 1000),
    url: `/v1/threads/${encodeURIComponent(t.id)}/ws?ticket=${ticket}` };
}

/** Uses up a ticket: true once for a ticket this thread issued and that has not expired. */
export async function takeTicket(store: ThreadStore, ticket: string): Promise<boolean> {
  return store.takeTicket(await bodyHash(ticket), Date.now());
}
