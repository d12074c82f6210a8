/**
 * A thread's WebSocket as a typed, self-healing connection. The transport is
 * partysocket's ReconnectingWebSocket (backoff, connect timeout); on top of it
 * this file keeps the last event seq seen, reconnects with `?after=<seq>` so
 * the server replays exactly what was missed, drops anything at or below that
 * seq (so nothing is delivered twice), and resends unanswered requests with
 * their request_id (the server treats a repeated request_id as the same turn).
 */
import { WebSocket as ReconnectingWebSocket } from "partysocket";
import type { ClientFrame } from "../protocol/schemas.ts";
import { isThreadEvent, type ErrorBody, type ServerFrame } from "../protocol/frames.ts";
import type { Turn } from "../protocol/types.ts";
import { ApiError } from "./rest.ts";

export type ConnectionStatus = "connecting" | "open" | "closed";

/** A constructor with the browser WebSocket's shape (the `ws` package in Node qualifies). */
export type WebSocketLike = new (url: string, protocols?: string | string[]) => unknown;

export interface ThreadSocketOptions {
  /** The socket URL for the next connection, given the last seq seen (null before any). */
  url: (after: number | null) => string | Promise<string>;
  /** The WebSocket implementation (default: the global one). */
  WebSocket?: WebSocketLike;
  /** Resume after this event seq on the first connection, instead of starting with a snapshot. */
  after?: number;
  /** How often to ping an open socket, in ms (default 5000). */
  heartbeatMs?: number;
  /** A socket that has received nothing for this long is dropped and reopened, in ms (default 12000). */
  staleMs?: number;
}

type TurnCreateFrame = Extract<ClientFrame, { type: "turn.create" }>;
/** What `send` takes: a turn.create frame without its type and request_id. */
export type TurnInput = Omit<TurnCreateFrame, "type" | "request_id">;

/** The frame of one type; an event type shared by several (e.g. turn.completed among the turn events) keeps its fields. */
export type FrameOf<K extends ServerFrame["type"]> = ServerFrame extends infer F
  ? F extends { type: infer T } ? (K extends T ? Omit<F, "type"> & { type: K } : never) : never
  : never;

interface Pending {
  frame: string;
  resolve(turn: Turn): void;
  reject(err: Error): void;
}

/** The client's view of one thread's socket: typed frames in, turns and cancels out, reconnects by itself. */
export class ThreadSocket {
  /** The seq of the last thread event delivered (or of the snapshot); null before the first. */
  lastSeq: number | null;
  status: ConnectionStatus = "connecting";
  private readonly ws: ReconnectingWebSocket;
  private readonly pending = new Map<string, Pending>();
  private readonly frameListeners = new Set<(f: ServerFrame) => void>();
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private lastFrameAt = Date.now();
  private readonly heartbeat: ReturnType<typeof setInterval>;

  constructor(opts: ThreadSocketOptions) {
    this.lastSeq = opts.after ?? null;
    this.ws = new ReconnectingWebSocket(async () => opts.url(this.lastSeq), undefined, {
      WebSocket: opts.WebSocket,
      minReconnectionDelay: 250,
      maxReconnectionDelay: 5_000,
      connectionTimeout: 8_000,
      maxRetries: Infinity,
    });
    this.ws.addEventListener("open", () => {
      this.lastFrameAt = Date.now();
      this.setStatus("open");
      // Requests not answered on the last connection: the same request_id makes the retry the same turn.
      for (const p of this.pending.values()) this.ws.send(p.frame);
    });
    this.ws.addEventListener("close", () => this.setStatus(this.ws.shouldReconnect ? "connecting" : "closed"));
    this.ws.addEventListener("message", (e) => this.receive(String(e.data)));
    const heartbeatMs = opts.heartbeatMs ?? 5_000;
    const staleMs = opts.staleMs ?? 12_000;
    // A dead network path does not always close a socket (no FIN arrives): a socket that hears
    // nothing, not even the pong, for staleMs is treated as gone. '{"type":"ping"}' exactly is
    // answered by the runtime without waking the thread's object (setWebSocketAutoResponse).
    this.heartbeat = setInterval(() => {
      if (this.status !== "open") return;
      if (Date.now() - this.lastFrameAt > staleMs) this.ws.reconnect();
      else this.ws.send('{"type":"ping"}');
    }, heartbeatMs);
  }

  /** Listens to every frame (thread events once each, in seq order, snapshots, answers); returns the unsubscribe. */
  onFrame(fn: (frame: ServerFrame) => void): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  /** Listens to frames of one type, typed accordingly; returns the unsubscribe. */
  on<K extends ServerFrame["type"]>(type: K, fn: (frame: FrameOf<K>) => void): () => void {
    return this.onFrame((f) => {
      if (f.type === type) fn(f as FrameOf<K>);
    });
  }

  /** Listens to connection status changes; returns the unsubscribe. */
  onStatus(fn: (s: ConnectionStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /** Starts a turn; resolves with the accepted turn (its events arrive as frames). Survives reconnects. */
  send(input: TurnInput | string, requestId: string = crypto.randomUUID()): Promise<Turn> {
    const body = typeof input === "string" ? { input } : input;
    return this.request(requestId, { type: "turn.create", request_id: requestId, ...body });
  }

  /** Stops a turn; resolves with its final state (a running turn keeps its partial reply as incomplete). */
  cancel(turnId: string): Promise<Turn> {
    const requestId = crypto.randomUUID();
    return this.request(requestId, { type: "turn.cancel", request_id: requestId, turn_id: turnId });
  }

  /** Drops the connection and opens a new one at once (resuming after lastSeq). */
  reconnect(): void {
    this.ws.reconnect();
  }

  /** Closes for good; unanswered requests are rejected. */
  close(): void {
    clearInterval(this.heartbeat);
    this.ws.close(1000, "client closed");
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error("socket closed"));
    }
    this.setStatus("closed");
  }

  private request(requestId: string, frame: ClientFrame): Promise<Turn> {
    return new Promise<Turn>((resolve, reject) => {
      const text = JSON.stringify(frame);
      this.pending.set(requestId, { frame: text, resolve, reject });
      // While disconnected it waits in `pending` and goes out on the next open (not in partysocket's queue too).
      if (this.status === "open") this.ws.send(text);
    });
  }

  private receive(text: string): void {
    this.lastFrameAt = Date.now();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === "thread.snapshot") {
      this.lastSeq = frame.seq;
    } else if (isThreadEvent(frame)) {
      // A replay after a reconnect starts after lastSeq; anything at or below it was delivered already.
      if (this.lastSeq !== null && frame.seq <= this.lastSeq) return;
      this.lastSeq = frame.seq;
      // The server closes a deleted thread's sockets; reconnecting would only meet a 404.
      if (frame.type === "thread.deleted") queueMicrotask(() => this.close());
    } else if (frame.type === "turn.accepted" || frame.type === "turn.cancel.result" || frame.type === "error") {
      this.settle(frame.request_id, frame.type === "error" ? frame.error : frame.turn, frame.type === "error");
    }
    for (const fn of this.frameListeners) fn(frame);
  }

  private settle(requestId: string | null, value: Turn | ErrorBody, failed: boolean): void {
    const p = requestId === null ? undefined : this.pending.get(requestId);
    if (!p || requestId === null) return;
    this.pending.delete(requestId);
    if (failed) p.reject(new ApiError(statusOf(value as ErrorBody), value as ErrorBody));
    else p.resolve(value as Turn);
  }

  private setStatus(s: ConnectionStatus): void {
    if (s === this.status) return;
    this.status = s;
    for (const fn of this.statusListeners) fn(s);
  }
}

const STATUS_BY_TYPE = new Map([
  ["invalid_request_error", 400], ["authentication_error", 401], ["not_found_error", 404], ["conflict_error", 409],
  ["request_too_large", 413], ["rate_limit_error", 429], ["upstream_error", 502],
]);

/** The HTTP status the same error has over REST (src/errors.ts), since an error frame carries only its body. */
export function statusOf(error: ErrorBody): number {
  const status = STATUS_BY_TYPE.get(error.type);
  if (status !== undefined) return status;
  // A server_error is 503 where the server says "come back later" (src/errors.ts, src/http/webhooks.ts), else 500.
  return error.code === "object_overloaded" || error.code === "upstream_not_configured" || error.code === "bot_update_not_stored" ? 503 : 500;
}
