/** /v1/threads/{id}/turns and /events: run, read and cancel turns; follow a thread's events as SSE. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { BadRequestError, unwrap } from "../errors.ts";
import { TurnCreate } from "../protocol/schemas.ts";
import { idempotencyOf, pathThread, type AuthedRequest } from "./context.ts";
import { parseBody, queryOf } from "./parse.ts";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

export async function turnCreate(req: IRequest, env: Env): Promise<Response> {
  const stub = pathThread(req, env);
  const body = await parseBody(req, env, TurnCreate);
  const idem = await idempotencyOf(req, body);
  if (body.stream) return new Response(unwrap(await stub.streamTurn(body, idem)), { headers: SSE_HEADERS });
  return Response.json(unwrap(await stub.runTurn(body, idem)));
}

export async function turnRetrieve(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await pathThread(req, env).getTurn(req.params.turn_id!)));
}

export async function turnCancel(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await pathThread(req, env).cancelTurn(req.params.turn_id!)));
}

/** GET /v1/threads/{id}/events?after=SEQ (or Last-Event-ID): replay, then follow until the thread is idle. */
export async function eventsStream(req: IRequest, env: Env): Promise<Response> {
  const stub = pathThread(req, env);
  const q = queryOf(req);
  for (const k of Object.keys(q)) if (k !== "after") throw new BadRequestError(`Unknown parameter: '${k}'.`, k);
  const raw = q.after ?? req.headers.get("last-event-id") ?? null;
  let after: number | null = null;
  if (raw !== null) {
    after = Number(raw);
    if (raw.trim() === "" || !Number.isSafeInteger(after) || after < 0) {
      throw new BadRequestError("'after' (or Last-Event-ID) must be a non-negative integer event seq.", "after");
    }
  }
  return new Response(unwrap(await stub.streamEvents(after)), { headers: SSE_HEADERS });
}

/** GET /v1/threads/{id}/ws: the WebSocket upgrade is handed to the thread's object. */
export async function threadSocket(req: IRequest, env: Env): Promise<Response> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new BadRequestError("This endpoint expects a WebSocket upgrade (Upgrade: websocket).");
  }
  const stub = pathThread(req, env);
  // The object is reached only through this Worker, so this header is ours: it says
  // whether an API key was checked or a ticket remains to be checked (and used up).
  const headers = new Headers(req.headers);
  headers.set("x-durable-threads-auth", (req as AuthedRequest).authVia);
  return stub.fetch(new Request(req.url, { method: "GET", headers }));
}
