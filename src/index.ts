/** Worker entry: wires routes to handlers and turns every failure into an OpenAI-shaped error. */
import { Router, type IRequest } from "itty-router";
import type { Env } from "./env.ts";
import { errorResponse, NotFoundError } from "./errors.ts";
import { messageCreate, messageDelete, messageList, messageRetrieve } from "./http/messages.ts";
import { threadCreate, threadDelete, threadList, threadRetrieve, threadUpdate } from "./http/threads.ts";
import { eventsStream, threadSocket, turnCancel, turnCreate, turnRetrieve } from "./http/turns.ts";

export { ThreadObject } from "./thread/ThreadObject.ts";
export { DirectoryObject } from "./directory/DirectoryObject.ts";

const router = Router<IRequest, [Env, ExecutionContext]>({
  catch: (err: unknown) => errorResponse(err),
});

router
  .post("/v1/threads", threadCreate)
  .get("/v1/threads", threadList)
  .get("/v1/threads/:id", threadRetrieve)
  .post("/v1/threads/:id", threadUpdate)
  .delete("/v1/threads/:id", threadDelete)
  .get("/v1/threads/:id/messages", messageList)
  .post("/v1/threads/:id/messages", messageCreate)
  .get("/v1/threads/:id/messages/:message_id", messageRetrieve)
  .delete("/v1/threads/:id/messages/:message_id", messageDelete)
  .post("/v1/threads/:id/turns", turnCreate)
  .get("/v1/threads/:id/turns/:turn_id", turnRetrieve)
  .post("/v1/threads/:id/turns/:turn_id/cancel", turnCancel)
  .get("/v1/threads/:id/events", eventsStream)
  .get("/v1/threads/:id/ws", threadSocket)
  .all("*", (req: IRequest) => {
    throw new NotFoundError(`Invalid URL (${req.method} ${new URL(req.url).pathname})`);
  });

export default {
  fetch: (req: Request, env: Env, ctx: ExecutionContext) => router.fetch(req, env, ctx),
} satisfies ExportedHandler<Env>;
