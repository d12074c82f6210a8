/** WebSocket tickets: browsers cannot set headers on a WebSocket, so they trade their API key for a ticket first. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { AuthenticationError, unwrap } from "../errors.ts";
import { created, pathThread } from "./context.ts";

/** POST /v1/threads/{id}/ws-tickets: a single-use ticket, valid for 60 seconds, for this thread's socket. */
export async function ticketCreate(req: IRequest, env: Env): Promise<Response> {
  return created(unwrap(await pathThread(req, env).issueTicket()));
}

/** The tenant a ticket was issued for (`wst_<base64url tenant>_<random>`); the thread's object checks the ticket itself. */
export function tenantOfTicket(ticket: string): string {
  const m = /^wst_([A-Za-z0-9_-]+)_([a-z0-9]{32})$/.exec(ticket);
  if (!m) throw new AuthenticationError("Invalid WebSocket ticket.");
  try {
    const bin = atob(m[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    throw new AuthenticationError("Invalid WebSocket ticket.");
  }
}

/** A new ticket for a tenant. */
export function newTicket(tenant: string): string {
  const b64 = btoa(Array.from(new TextEncoder().encode(tenant), (b) => String.fromCharCode(b)).join(""))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `wst_${b64}_${Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("")}`;
}
