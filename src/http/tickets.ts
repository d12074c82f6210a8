/** POST /v1/threads/{id}/ws-tickets (tickets themselves: thread/tickets.ts). */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { unwrap } from "../errors.ts";
import { created, pathThread } from "./context.ts";

/** POST /v1/threads/{id}/ws-tickets: a single-use ticket, valid for 60 seconds, for this thread's socket. */
export async function ticketCreate(req: IRequest, env: Env): Promise<Response> {
  return created(unwrap(await pathThread(req, env).issueTicket()));
}
