/**
 * A WebSocket client for a thread as a real client in Node sees it (the `ws`
 * package over TCP to wrangler's dev server): it records every frame with its
 * arrival time, counts the bytes it writes on the wire, and every wait is
 * bounded. Used by test/e2e/live.test.ts and bench/run.ts (Node's type
 * stripping), so this file uses erasable TypeScript only.
 */
import { createConnection, type Socket } from "node:net";
import WebSocket from "ws";
import { within } from "./client.ts";

/** One server frame as received: the parsed JSON and performance.now() when it arrived. */
export interface Received {
  frame: any;
  at: number;
}

export interface LiveSocket {
  ws: WebSocket;
  /** Every frame received so far, parsed, in arrival order. */
  frames: any[];
  received: Received[];
  /** performance.now() when the connection was requested. */
  requestedAt: number;
  /** Sends a frame: an object as JSON, a string as it is. */
  send(frame: unknown): void;
  /** The first frame (from `from` on) that matches, waiting at most `ms` for it. */
  waitFor(pred: (f: any) => boolean, what: string, ms?: number, from?: number): Promise<any>;
  /** Frames of a type, in arrival order. */
  ofType(type: string): any[];
  /** Bytes written to the TCP connection so far (handshake and frame headers included). */
  bytesWritten(): number;
  /** Bytes read from the TCP connection so far. */
  bytesRead(): number;
  /** True once the connection has closed. */
  readonly closed: boolean;
  /** Closes with a close handshake and waits (bounded) until the socket is closed. */
  close(): Promise<void>;
  /** Drops the TCP connection at once, as a network failure or a killed tab would: no close frame. */
  terminate(): void;
}


/** Sockets opened and not yet closed, so a test can close whatever it left open. */
const open = new Set<LiveSocket>();

/** Closes every socket this process opened and has not closed yet. */
export async function closeAllSockets(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

export interface ConnectOptions {
  /** Bound on the upgrade, in ms. */
  timeoutMs?: number;
  /**
   * Offer permessage-deflate (as browsers do). Off by default, so that byte
   * counts on the wire are the frames themselves, not what a shared deflate
   * context makes of them.
   */
  compress?: boolean;
  /** Extra headers on the upgrade request (e.g. Authorization). */
  headers?: Record<string, string>;
}

/**
 * Opens `GET /v1/threads/{id}/ws{query}` and resolves once the upgrade has
 * succeeded (frames that arrive at once are recorded from the start); rejects
 * with the HTTP status and body if the upgrade is refused.
 */
export async function connectSocket(baseUrl: string, threadId: string, query = "", opts: ConnectOptions = {}): Promise<LiveSocket> {
  const ms = opts.timeoutMs ?? 10_000;
  const url = `${baseUrl.replace(/^http/, "ws")}/v1/threads/${encodeURIComponent(threadId)}/ws${query}`;
  let tcp: Socket | undefined;
  const requestedAt = performance.now();
  const ws = new WebSocket(url, {
    // Keeps the TCP socket so its byte counters can be read: what the client really sends.
    createConnection: ((opts: any, cb?: () => void) => (tcp = createConnection(opts, cb))) as typeof createConnection,
    handshakeTimeout: ms,
    perMessageDeflate: opts.compress ?? false,
    headers: opts.headers,
  });
  const received: Received[] = [];
  const frames: any[] = [];
  const waiters = new Set<() => void>();
  let closed = false;
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? "" : data.toString();
    let frame: any;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { type: "<not json>", text };
    }
    received.push({ frame, at: performance.now() });
    frames.push(frame);
    for (const w of [...waiters]) w();
  });
  const closedP = new Promise<void>((resolve) => ws.once("close", () => {
    closed = true;
    for (const w of [...waiters]) w();
    resolve();
  }));
  ws.on("error", () => {}); // reported through "close" or the open wait below

  await within(ms, `the WebSocket upgrade of ${url}`, new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(new Error(`upgrade refused: ${res.statusCode} ${body}`)));
    });
    ws.once("error", (err) => reject(err));
  })).catch((err) => {
    ws.terminate();
    throw err;
  });

  const socket: LiveSocket = {
    ws, frames, received, requestedAt,
    send(frame) {
      ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
    },
    waitFor(pred, what, waitMs = 5_000, from = 0) {
      const find = () => {
        for (let i = from; i < frames.length; i++) if (pred(frames[i])) return frames[i];
        return undefined;
      };
      const now = find();
      if (now !== undefined) return Promise.resolve(now);
      let check = () => {};
      const p = new Promise<any>((resolve, reject) => {
        check = () => {
          const f = find();
          if (f !== undefined) resolve(f);
          else if (closed) reject(new Error(`the socket closed before ${what}`));
        };
        waiters.add(check);
      });
      return within(waitMs, what, p).finally(() => waiters.delete(check));
    },
    ofType: (type) => frames.filter((f) => f.type === type),
    bytesWritten: () => tcp?.bytesWritten ?? 0,
    bytesRead: () => tcp?.bytesRead ?? 0,
    get closed() {
      return closed;
    },
    async close() {
      open.delete(socket);
      if (closed) return;
      ws.close(1000, "done");
      await within(5_000, "the WebSocket close handshake", closedP).catch(() => ws.terminate());
    },
    terminate() {
      open.delete(socket);
      ws.terminate();
    },
  };
  open.add(socket);
  return socket;
}

/** The thread events among a socket's frames (they carry a `seq`; snapshots, acks, errors and pongs do not count). */
export function eventsOf(frames: any[]): any[] {
  return frames.filter((f) => typeof f.seq === "number" && f.type !== "thread.snapshot");
}
