/** /v1/threads/{id}/turns: run a turn (JSON or SSE) and read a turn's state. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { unwrap } from "../errors.ts";
import { TurnCreate } from "../protocol/schemas.ts";
import { pathThread } from "./context.ts";
import { parseBody } from "./parse.ts";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

export async function turnCreate(req: IRequest, env: Env): Promise<Response> {
  const stub = pathThread(req, env);
  const body = await parseBody(req, TurnCreate);
  if (body.stream) return new Response(unwrap(await stub.streamTurn(body)), { headers: SSE_HEADERS });
  return Response.json(unwrap(await stub.runTurn(body)));
}

export async function turnRetrieve(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await pathThread(req, env).getTurn(req.params.turn_id!)));
}
