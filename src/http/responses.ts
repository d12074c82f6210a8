/** /v1/responses: OpenAI's Responses API served for every chat model by translating to chat completions. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { BadRequestError, NotFoundError, unwrap } from "../errors.ts";
import { ResponseCreate } from "../protocol/openai.ts";
import { ThreadId } from "../protocol/schemas.ts";
import { parseResponseId } from "../responses/ids.ts";
import { idempotencyOf, newObjectId, tenantOf, threadStub } from "./context.ts";
import { listQueryWithInclude } from "./conversations.ts";
import { parseWith } from "../protocol/parse.ts";
import { parseBody } from "./parse.ts";
import { SSE_HEADERS } from "./turns.ts";

export async function responseCreate(req: IRequest, env: Env): Promise<Response> {
  const body = await parseBody(req, env, ResponseCreate);
  const tenant = tenantOf(req, env);
  const idem = await idempotencyOf(req, body);
  if (body.conversation && body.previous_response_id) {
    throw new BadRequestError("Use either 'conversation' or 'previous_response_id', not both.", "previous_response_id");
  }
  let result;
  if (body.conversation) {
    const id = parseWith(ThreadId, typeof body.conversation === "string" ? body.conversation : body.conversation.id, "conversation");
    result = await threadStub(env, tenant, id).respond(tenant, id, body, { kind: "conversation" }, id, idem);
  } else if (body.previous_response_id) {
    const ref = parseResponseId(body.previous_response_id);
    if (!ref) throw new BadRequestError(`Previous response with id '${body.previous_response_id.slice(0, 80)}' not found.`, "previous_response_id");
    result = await threadStub(env, tenant, ref.threadId).respond(tenant, ref.threadId, body, { kind: "chain", previousTurnId: ref.turnId }, null, idem);
  } else {
    // A new chain gets its own (hidden) thread; its responses' IDs lead back to it.
    const id = await newObjectId("respchain", idem);
    result = await threadStub(env, tenant, id).respond(tenant, id, body, { kind: "chain", previousTurnId: null }, null, idem);
  }
  const value = unwrap(result);
  return value instanceof ReadableStream ? new Response(value, { headers: SSE_HEADERS }) : Response.json(value);
}

/** The object and turn a response ID names; an ID that is not ours names nothing (404). */
function responseRef(req: IRequest, env: Env) {
  const ref = parseResponseId(req.params.id ?? "");
  if (!ref) throw new NotFoundError(`Response with id '${(req.params.id ?? "").slice(0, 80)}' not found.`, "response_id");
  return { stub: threadStub(env, tenantOf(req, env), ref.threadId), turnId: ref.turnId };
}

export async function responseRetrieve(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  return Response.json(unwrap(await stub.getResponse(turnId)));
}

export async function responseDelete(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  return Response.json(unwrap(await stub.deleteResponse(turnId)));
}

export async function responseInputItems(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  return Response.json(unwrap(await stub.responseInputItems(turnId, listQueryWithInclude(req))));
}
