/** /v1/conversations: OpenAI's Conversations API over threads (a conversation is a thread, same ID, same messages). */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { unwrap } from "../errors.ts";
import { ConversationCreate, ConversationUpdate, ItemsCreate } from "../protocol/openai.ts";
import { ListQuery, ThreadId } from "../protocol/schemas.ts";
import { idempotencyOf, newObjectId, tenantOf, threadStub } from "./context.ts";
import { parseWith } from "../protocol/parse.ts";
import { parseBody } from "./parse.ts";

function conversationStub(req: IRequest, env: Env) {
  const id = parseWith(ThreadId, req.params.id, "conversation_id");
  return threadStub(env, tenantOf(req, env), id);
}

export async function conversationCreate(req: IRequest, env: Env): Promise<Response> {
  const body = await parseBody(req, env, ConversationCreate);
  const tenant = tenantOf(req, env);
  const idem = await idempotencyOf(req, body);
  const id = await newObjectId("conv", idem);
  return Response.json(unwrap(await threadStub(env, tenant, id).createConversation(tenant, id, body, idem)));
}

export async function conversationRetrieve(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await conversationStub(req, env).getConversation()));
}

export async function conversationUpdate(req: IRequest, env: Env): Promise<Response> {
  const stub = conversationStub(req, env);
  const body = await parseBody(req, env, ConversationUpdate);
  unwrap(await stub.update({
    ...(body.metadata !== undefined ? { metadata: body.metadata ?? {} } : {}),
    ...(body.expires_after !== undefined ? { expires_after: body.expires_after } : {}),
  }));
  return Response.json(unwrap(await stub.getConversation()));
}

export async function conversationDelete(req: IRequest, env: Env): Promise<Response> {
  const { id } = unwrap(await conversationStub(req, env).delete());
  return Response.json({ id, object: "conversation.deleted", deleted: true });
}

export async function itemsCreate(req: IRequest, env: Env): Promise<Response> {
  const stub = conversationStub(req, env);
  const body = await parseBody(req, env, ItemsCreate);
  return Response.json(unwrap(await stub.addItems(body.items, await idempotencyOf(req, body))));
}

export async function itemsList(req: IRequest, env: Env): Promise<Response> {
  const stub = conversationStub(req, env);
  return Response.json(unwrap(await stub.listItems(listQueryWithInclude(req))));
}

export async function itemRetrieve(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await conversationStub(req, env).getItem(req.params.item_id!)));
}

export async function itemDelete(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await conversationStub(req, env).deleteItem(req.params.item_id!)));
}

/**
 * The list query of item listings. `include` (OpenAI's extra fields, e.g.
 * message.output_text.logprobs) may repeat and is accepted; there is nothing
 * extra to include for text-only messages.
 */
export function listQueryWithInclude(req: Request) {
  const q: Record<string, string> = {};
  for (const [k, v] of new URL(req.url).searchParams) {
    if (k === "include" || k === "include[]") continue;
    if (k in q) return parseWith(ListQuery, { ...q, [k]: [q[k], v] });
    q[k] = v;
  }
  return parseWith(ListQuery, q);
}
