/** Worker entry: wires routes to handlers and turns every failure into an OpenAI-shaped error. */
import { Router, type IRequest } from "itty-router";
import type { Env } from "./env.ts";
import { errorResponse, NotFoundError } from "./errors.ts";
import { authenticate } from "./http/auth.ts";
import { decodePathParam, type AuthedRequest } from "./http/context.ts";
import { ticketCreate } from "./http/tickets.ts";
import { verifyTicket } from "./thread/tickets.ts";
import { openApiDocument } from "./http/openapi.ts";
import { messageCreate, messageDelete, messageList, messageRetrieve } from "./http/messages.ts";
import { chatCompletionCreate, embeddingCreate, modelList, modelRetrieve } from "./http/passthrough.ts";
import { threadCreate, threadDelete, threadFork, threadList, threadRetrieve, threadUpdate } from "./http/threads.ts";
import { conversationCreate, conversationDelete, conversationRetrieve, conversationUpdate, itemDelete, itemRetrieve, itemsCreate, itemsList } from "./http/conversations.ts";
import { responseCancel, responseCreate, responseDelete, responseInputItems, responseRetrieve } from "./http/responses.ts";
import { eventsStream, threadSocket, turnCancel, turnCreate, turnRetrieve } from "./http/turns.ts";
import { isWebhook, webhookReceive } from "./http/webhooks.ts";

export { ThreadObject } from "./thread/ThreadObject.ts";
export { DirectoryObject } from "./directory/DirectoryObject.ts";
export { BotStateObject } from "./bots/BotStateObject.ts";

const router = Router<IRequest, [Env, ExecutionContext]>({
  before: [authenticateRequest],
  catch: (err: unknown) => errorResponse(err),
});

/**
 * Runs before every route: finds the
 * tenant. A WebSocket upgrade without an Authorization header may carry a
 * ticket instead; its tenant is read here and the ticket itself is checked
 * (and used up) by the thread's object.
 */
async function authenticateRequest(req: IRequest, env: Env): Promise<void> {
  // Bot webhooks carry no API key: each platform's own signature is checked by the route.
  if (isWebhook(req)) return;
  const authed = req as AuthedRequest;
  const url = new URL(req.url);
  // The API's own description is public: it holds no tenant's data.
  if (url.pathname === "/openapi.json") return;
  const ticket = url.searchParams.get("ticket");
  const socketPath = /^\/v1\/threads\/([^/]+)\/ws$/.exec(url.pathname);
  if (ticket !== null && !req.headers.has("authorization") && socketPath) {
    authed.tenant = await verifyTicket(env, ticket, decodePathParam(socketPath[1])!);
    authed.authVia = "ticket";
    return;
  }
  authed.tenant = await authenticate(req, env);
  authed.authVia = "bearer";
}

router
  .post("/v1/threads", threadCreate)
  .get("/v1/threads", threadList)
  .get("/v1/threads/:id", threadRetrieve)
  .post("/v1/threads/:id", threadUpdate)
  .delete("/v1/threads/:id", threadDelete)
  .post("/v1/threads/:id/fork", threadFork)
  .get("/v1/threads/:id/messages", messageList)
  .post("/v1/threads/:id/messages", messageCreate)
  .get("/v1/threads/:id/messages/:message_id", messageRetrieve)
  .delete("/v1/threads/:id/messages/:message_id", messageDelete)
  .post("/v1/threads/:id/turns", turnCreate)
  .get("/v1/threads/:id/turns/:turn_id", turnRetrieve)
  .post("/v1/threads/:id/turns/:turn_id/cancel", turnCancel)
  .get("/v1/threads/:id/events", eventsStream)
  .get("/v1/threads/:id/ws", threadSocket)
  .post("/v1/threads/:id/ws-tickets", ticketCreate)
  .post("/v1/conversations", conversationCreate)
  .get("/v1/conversations/:id", conversationRetrieve)
  .post("/v1/conversations/:id", conversationUpdate)
  .delete("/v1/conversations/:id", conversationDelete)
  .post("/v1/conversations/:id/items", itemsCreate)
  .get("/v1/conversations/:id/items", itemsList)
  .get("/v1/conversations/:id/items/:item_id", itemRetrieve)
  .delete("/v1/conversations/:id/items/:item_id", itemDelete)
  .post("/v1/responses", responseCreate)
  .get("/v1/responses/:id", responseRetrieve)
  .delete("/v1/responses/:id", responseDelete)
  .post("/v1/responses/:id/cancel", responseCancel)
  .get("/v1/responses/:id/input_items", responseInputItems)
  .post("/v1/chat/completions", chatCompletionCreate)
  .post("/v1/embeddings", embeddingCreate)
  .get("/v1/models", modelList)
  .get("/v1/models/:model+", modelRetrieve)
  .post("/webhooks/:platform", webhookReceive)
  .get("/openapi.json", openApiDocument)
  .all("*", (req: IRequest) => {
    throw new NotFoundError(`Invalid URL (${req.method} ${new URL(req.url).pathname})`);
  });

/** The router's route table as `METHOD /path/:param` pairs (the OpenAPI test compares it with the document). */
export function routeTable(): { method: string; path: string }[] {
  return router.routes.filter(([method]) => method !== "ALL").map(([method, , , path]) => ({ method: method!, path: path! }));
}

export default {
  fetch: (req: Request, env: Env, ctx: ExecutionContext) => router.fetch(req, env, ctx),
} satisfies ExportedHandler<Env>;
