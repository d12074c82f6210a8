/** The WebSocket protocol of a thread: snapshot or replay on connect, client frames in, events out. */
import { fitsUtf8 } from "../encoding.ts";
import { ApiError, AuthenticationError, BadRequestError, NotFoundError, TooLargeError } from "../errors.ts";
import { parseWith } from "../protocol/parse.ts";
import { DEFAULT_LIMITS as LIMITS } from "../protocol/limits.ts";
import { ClientFrame } from "../protocol/schemas.ts";
import type { List, Message, ServerFrame, Thread, ThreadEvent, Turn } from "../protocol/types.ts";
import type { ThreadRow } from "./store.ts";

/** What a socket remembers across hibernation (serializeAttachment). */
export interface SocketAttachment {
  connectedAt: number;
}

/** The thread operations a socket's frames reach. */
export interface SocketHost {
  startTurn(frame: Extract<ClientFrame, { type: "turn.create" }>): Promise<Turn>;
  cancelTurn(turnId: string): Promise<Turn>;
}

/** Messages in a connection's snapshot: the newest page, never the whole history. */
export const SNAPSHOT_MESSAGES = 50;

/**
 * Answers a WebSocket upgrade for a thread (`t`, or null if the object holds
 * none): a ticket (unless the Worker checked a bearer key) is taken, single-use,
 * before the socket is accepted.
 */
export async function upgrade(ctx: DurableObjectState, req: Request, t: ThreadRow | null,
  source: { take(ticket: string): Promise<boolean>; replay(after: number): ThreadEvent[] | null; snapshot(t: ThreadRow): ServerFrame }): Promise<Response> {
  const byTicket = req.headers.get("x-durable-threads-auth") !== "bearer";
  const badTicket = () => new AuthenticationError("Invalid, expired or already used WebSocket ticket.").toResponse();
  // A ticket for a thread that is gone is simply no longer valid.
  if (!t && byTicket) return badTicket();
  if (!t) return new NotFoundError("No thread found with that id.", "thread_id").toResponse();
  const url = new URL(req.url);
  if (byTicket && !(await source.take(url.searchParams.get("ticket") ?? ""))) return badTicket();
  return acceptSocket(ctx, url.searchParams.get("after"), { replay: source.replay, snapshot: () => source.snapshot(t) });
}

/**
 * Accepts a WebSocket with the Hibernation API (ctx.acceptWebSocket: the object
 * may sleep while the socket stays open) and sends its first frames: the
 * events after `after`, or a snapshot when there is no `after` or the resume
 * buffer cannot replay from it.
 */
export function acceptSocket(ctx: DurableObjectState, afterParam: string | null,
  source: { replay(after: number): ThreadEvent[] | null; snapshot(): ServerFrame }): Response {
  const after = afterParam === null ? null : Number(afterParam);
  if (after !== null && !(Number.isInteger(after) && after >= 0)) {
    return new BadRequestError("'after' must be a non-negative integer event seq.", "after").toResponse();
  }
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server);
  server.serializeAttachment({ connectedAt: Date.now() } satisfies SocketAttachment);
  const replay = after === null ? null : source.replay(after);
  if (replay) for (const e of replay) server.send(frame(e));
  else server.send(frame(source.snapshot()));
  return new Response(null, { status: 101, webSocket: client });
}

/** The first frame of a connection without `after`: the thread and its newest page of messages only. */
export function snapshotFrame(thread: Thread, page: List<Message>, seq: number): ServerFrame {
  return { type: "thread.snapshot", seq, thread, messages: page.data, has_more: page.has_more };
}

/** Sends one event to every socket of the thread; a socket that is gone is skipped. */
export function broadcast(sockets: WebSocket[], e: ThreadEvent): void {
  if (sockets.length === 0) return;
  const text = frame(e);
  for (const ws of sockets) {
    try {
      ws.send(text);
    } catch {
      // Closed between getWebSockets() and send: it will get webSocketClose.
    }
  }
}

/** A server frame as the text sent on the socket. */
function frame(f: ServerFrame): string {
  return JSON.stringify(f);
}

/**
 * Handles one client frame. Bad frames (binary, not JSON, unknown type, missing
 * fields, too large) and failed operations answer `{type:"error", request_id,
 * error}` to that socket only; the socket stays open.
 */
export async function handleFrame(ws: WebSocket, raw: string | ArrayBuffer, host: SocketHost): Promise<void> {
  let requestId: string | null = null;
  try {
    if (typeof raw !== "string") throw new BadRequestError("Binary frames are not supported; send JSON text frames.");
    if (!fitsUtf8(raw, LIMITS.wsFrameBytes)) {
      throw new TooLargeError(`Frames are limited to ${LIMITS.wsFrameBytes} bytes (LIMITS.wsFrameBytes).`);
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new BadRequestError("The frame is not valid JSON.");
    }
    const rid = (value as { request_id?: unknown } | null)?.request_id;
    if (typeof rid === "string") requestId = rid;
    const f = parseWith(ClientFrame, value);
    switch (f.type) {
      case "ping":
        ws.send(frame({ type: "pong", request_id: f.request_id ?? null }));
        return;
      case "turn.create": {
        const turn = await host.startTurn(f);
        ws.send(frame({ type: "turn.accepted", request_id: requestId, turn }));
        return;
      }
      case "turn.cancel": {
        const turn = await host.cancelTurn(f.turn_id);
        ws.send(frame({ type: "turn.cancel.result", request_id: requestId, turn }));
        return;
      }
    }
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(500, "server_error", "The server had an error while processing this frame.");
    if (!(err instanceof ApiError)) console.error("websocket frame failed", err);
    try {
      ws.send(frame({ type: "error", request_id: requestId, error: e.body().error }));
    } catch {
      // The socket closed meanwhile.
    }
  }
}

/** Closes a socket; one that is already closed is left as it is. */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}
