/** /v1/responses: OpenAI's Responses API served for every chat model by translating to chat completions. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { BadRequestError, NotFoundError, TooLargeError, unwrap } from "../errors.ts";
import { settingsOf } from "../settings.ts";
import { ResponseCreate } from "../protocol/openai.ts";
import { ThreadId } from "../protocol/schemas.ts";
import { z } from "zod";
import type { InputItem } from "../protocol/content.ts";
import type { AnyItem } from "../protocol/openai.ts";
import { parseItemId, parseResponseId } from "../responses/ids.ts";
import { asInputItem } from "../responses/items.ts";
import { idempotencyOf, newObjectId, tenantOf, threadStub } from "./context.ts";
import { listQueryWithInclude } from "./conversations.ts";
import { parseWith } from "../protocol/parse.ts";
import { parseBody, queryOf } from "./parse.ts";
import { SSE_HEADERS } from "./turns.ts";

export async function responseCreate(req: IRequest, env: Env): Promise<Response> {
  const body = await parseBody(req, env, ResponseCreate);
  const tenant = tenantOf(req, env);
  // OpenAI refuses this pair too: a background response is read back later, so it must be stored.
  if (body.background && body.store === false) throw new BadRequestError("'background' requires 'store': a background response must be stored to be read back.", "background");
  if (Array.isArray(body.input)) body.input = await resolveReferences(env, tenant, body.input, settingsOf(env).limits.messagesPerInput);
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

/**
 * Replaces each item_reference by the item it names, asked of the object the
 * item's ID names (item IDs carry their thread, as response IDs do), so a
 * reference resolves with or without previous_response_id or conversation.
 */
async function resolveReferences(env: Env, tenant: string, input: InputItem[], max: number): Promise<InputItem[]> {
  // One object call per reference: at most as many as an input may have messages.
  const refs = input.filter((item) => !("role" in item) && (item.type == null || item.type === "item_reference")).length;
  if (refs > max) throw new TooLargeError(`input has ${refs} item references; the limit is ${max} (LIMITS.messagesPerInput).`, "input");
  return Promise.all(input.map(async (item, i) => {
    if ("role" in item || (item.type != null && item.type !== "item_reference")) return item;
    const ref = parseItemId(item.id);
    const found = ref ? unwrap(await threadStub(env, tenant, ref.threadId).referencedItem(item.id)) as AnyItem | null : null;
    const resolved = found ? asInputItem(found) : null;
    if (!resolved) throw new BadRequestError(`Item with id '${item.id.slice(0, 120)}' not found.`, `input[${i}].id`);
    return resolved;
  }));
}

/** The object and turn a response ID names; an ID that is not ours names nothing (404). */
function responseRef(req: IRequest, env: Env) {
  const ref = parseResponseId(req.params.id ?? "");
  if (!ref) throw new NotFoundError(`Response with id '${(req.params.id ?? "").slice(0, 80)}' not found.`, "response_id");
  return { stub: threadStub(env, tenantOf(req, env), ref.threadId), turnId: ref.turnId };
}

/** GET /v1/responses/{id}; with `?stream=true&starting_after=N`, a background response's events after N, followed until it ends. */
export async function responseRetrieve(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  const q = parseWith(RetrieveQuery, queryOf(req));
  if (q.stream === "true") return new Response(unwrap(await stub.streamResponse(turnId, q.starting_after ?? -1)), { headers: SSE_HEADERS });
  return Response.json(unwrap(await stub.getResponse(turnId)));
}

/** The retrieve query; other keys (`include[]`, `include_obfuscation`, as the SDK sends them) change nothing and are ignored, as before. */
const RetrieveQuery = z.looseObject({
  stream: z.enum(["true", "false"]).optional(),
  starting_after: z.coerce.number().int().min(0).optional(),
});

/** POST /v1/responses/{id}/cancel: cancels a queued or running response (OpenAI allows it for background ones). */
export async function responseCancel(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  return Response.json(unwrap(await stub.cancelResponse(turnId)));
}

export async function responseDelete(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  return Response.json(unwrap(await stub.deleteResponse(turnId)));
}

export async function responseInputItems(req: IRequest, env: Env): Promise<Response> {
  const { stub, turnId } = responseRef(req, env);
  return Response.json(unwrap(await stub.responseInputItems(turnId, listQueryWithInclude(req))));
}
