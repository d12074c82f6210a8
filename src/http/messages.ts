/** /v1/threads/{id}/messages: list, append without a reply, retrieve, delete. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { unwrap } from "../errors.ts";
import { ListQuery, MessageCreate } from "../protocol/schemas.ts";
import { created, idempotencyOf, pathThread } from "./context.ts";
import { parseWith } from "../protocol/parse.ts";
import { parseBody, queryOf } from "./parse.ts";

export async function messageList(req: IRequest, env: Env): Promise<Response> {
  const q = parseWith(ListQuery, queryOf(req));
  return Response.json(unwrap(await pathThread(req, env).listMessages(q)));
}

export async function messageCreate(req: IRequest, env: Env): Promise<Response> {
  const stub = pathThread(req, env);
  const body = await parseBody(req, env, MessageCreate);
  return created(unwrap(await stub.appendMessage(body, await idempotencyOf(req, body))));
}

export async function messageRetrieve(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await pathThread(req, env).getMessage(req.params.message_id!)));
}

export async function messageDelete(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await pathThread(req, env).deleteMessage(req.params.message_id!)));
}
