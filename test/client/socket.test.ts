/**
 * The client library's ThreadSocket inside workerd, against the Worker itself:
 * its sockets are opened with an upgrade request to the Worker's fetch (the
 * same path a browser's socket takes), wrapped in the browser WebSocket shape.
 */
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../src/client/rest.ts";
import { statusOf, ThreadSocket } from "../../src/client/socket.ts";
import { AuthenticationError, BadRequestError, ConflictError, errorResponse, NotFoundError, RateLimitError, TooLargeError, UpstreamError } from "../../src/errors.ts";
import { LIMITS } from "../../src/protocol/limits.ts";
import type { ErrorBody, ServerFrame } from "../../src/protocol/frames.ts";
import { api, AUTH, createThread, eventually, useMockUpstream } from "../helpers.ts";

/** A browser-shaped WebSocket whose connection is an upgrade request to this Worker. */
class WorkerWebSocket extends EventTarget {
  static opened: string[] = [];
  static live = new Set<WorkerWebSocket>();
  readyState = 0;
  binaryType = "blob";
  private ws: WebSocket | undefined;

  constructor(readonly url: string) {
    super();
    WorkerWebSocket.opened.push(url);
    WorkerWebSocket.live.add(this);
    void exports.default.fetch(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket", ...AUTH } }).then((res) => {
      const ws = res.webSocket;
      if (!ws || this.readyState === 3) {
        this.finish(1006);
        return;
      }
      ws.accept();
      this.ws = ws;
      this.readyState = 1;
      ws.addEventListener("message", (e) => this.dispatchEvent(new MessageEvent("message", { data: e.data })));
      ws.addEventListener("close", (e) => this.finish(e.code));
      this.dispatchEvent(new Event("open"));
    });
  }

  send(data: string): void {
    this.ws?.send(data);
  }

  close(code = 1000, reason?: string): void {
    try {
      this.ws?.close(code, reason);
    } catch {}
    this.finish(code);
  }

  /** Drops the connection without a close handshake from the client's side being waited for, as a network failure would. */
  drop(): void {
    this.close(1001, "dropped");
  }

  private finish(code: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    WorkerWebSocket.live.delete(this);
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "", wasClean: false }));
  }
}

function open(threadId: string, after?: number): { socket: ThreadSocket; frames: ServerFrame[] } {
  const socket = new ThreadSocket({ url: (seq) => `ws://worker.test/v1/threads/${threadId}/ws${seq === null ? "" : `?after=${seq}`}`,
    WebSocket: WorkerWebSocket, after, heartbeatMs: 60_000 });
  const frames: ServerFrame[] = [];
  socket.onFrame((f) => frames.push(f));
  sockets.push(socket);
  return { socket, frames };
}

const sockets: ThreadSocket[] = [];

describe("ThreadSocket (src/client/socket.ts)", () => {
  const mock = useMockUpstream();
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    WorkerWebSocket.opened = [];
  });

  it("starts with the snapshot, sends a turn and types each frame by its type", async () => {
    const thread = await createThread({ metadata: { title: "typed" } });
    const { socket, frames } = open(thread.id);
    const types: string[] = [];
    socket.on("message.delta", (e) => types.push(`delta:${e.delta.length > 0}`));
    socket.on("turn.completed", (e) => types.push(`completed:${e.turn.status}`));
    await eventually(() => frames.find((f) => f.type === "thread.snapshot"));
    const turn = await socket.send("hi there");
    expect(turn.object).toBe("thread.turn");
    await eventually(() => frames.find((f) => f.type === "turn.completed"));
    expect(types.at(-1)).toBe("completed:completed");
    expect(types.filter((t) => t === "delta:true").length).toBeGreaterThan(0);
    expect(WorkerWebSocket.opened).toEqual([`ws://worker.test/v1/threads/${thread.id}/ws`]);
  });

  it("reconnects with ?after=<last seq> after a drop mid-turn and delivers every delta exactly once", async () => {
    mock.chunkDelayMs = 30;
    mock.reply = () => Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
    const thread = await createThread();
    const { socket, frames } = open(thread.id);
    await eventually(() => socket.status === "open");
    await socket.send("go");
    await eventually(() => frames.filter((f) => f.type === "message.delta").length >= 3);
    const before = socket.lastSeq!;
    for (const ws of WorkerWebSocket.live) ws.drop();
    await eventually(() => frames.find((f) => f.type === "turn.completed"), 20_000);
    expect(WorkerWebSocket.opened.length).toBeGreaterThanOrEqual(2);
    expect(Number(new URL(WorkerWebSocket.opened[1]!).searchParams.get("after"))).toBeGreaterThanOrEqual(before);
    const deltas = frames.flatMap((f) => (f.type === "message.delta" ? [f.delta] : []));
    const completed = frames.find((f) => f.type === "message.completed" && f.message.role === "assistant");
    expect(completed?.type === "message.completed" && completed.message.content).toBe(deltas.join(""));
    expect(deltas.join("")).toBe(mock.reply({}));
    const seqs = frames.flatMap((f) => (f.type !== "thread.snapshot" && "seq" in f ? [f.seq] : []));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("drops a replayed event it has already delivered", async () => {
    const thread = await createThread();
    const first = open(thread.id);
    await first.socket.send("one");
    await eventually(() => first.frames.find((f) => f.type === "turn.completed"));
    const events = first.frames.filter((f) => f.type !== "thread.snapshot" && "seq" in f);
    const middle = (events[Math.floor(events.length / 2)] as { seq: number }).seq;
    // Told it has seen up to `middle`, but asking the server from an earlier seq: the overlap must not show twice.
    const second = new ThreadSocket({ url: () => `ws://worker.test/v1/threads/${thread.id}/ws?after=0`, WebSocket: WorkerWebSocket, after: middle, heartbeatMs: 60_000 });
    sockets.push(second);
    const frames: ServerFrame[] = [];
    second.onFrame((f) => frames.push(f));
    await eventually(() => frames.find((f) => f.type === "turn.completed"));
    const seqs = frames.map((f) => (f as { seq: number }).seq);
    expect(Math.min(...seqs)).toBe(middle + 1);
    expect(seqs).toEqual(events.map((e) => (e as { seq: number }).seq).filter((s) => s > middle));
  });

  it("rejects a turn the server refuses with the server's error", async () => {
    const thread = await createThread();
    const { socket } = open(thread.id);
    const err = await socket.send({ input: "" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    if (!(err instanceof ApiError)) return;
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.param).toBe("input");
    expect(err.status).toBe(400);
  });

  it("gives a refused turn the status the same refusal has over REST (413 for content too large, not 400)", async () => {
    const thread = await createThread();
    const input = "x".repeat(LIMITS.contentBytes + 1);
    const rest = await api("POST", `/v1/threads/${thread.id}/turns`, { input });
    expect(rest.status).toBe(413);
    const { socket } = open(thread.id);
    const err = await socket.send({ input }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    if (!(err instanceof ApiError)) return;
    expect(err.error.type).toBe("request_too_large");
    expect(err.status).toBe(413);
  });

  it("maps every error type the server sends to the HTTP status the server gives it", async () => {
    const thrown = [new BadRequestError("b"), new AuthenticationError("a"), new NotFoundError("n"), new ConflictError("c", "thread_busy"),
      new TooLargeError("t"), new RateLimitError("r"), new UpstreamError("u"), new Error("a bug"),
      // The runtime's refusal of an overloaded object (src/stubs.ts), as the Worker answers it.
      Object.assign(new Error("Durable Object is overloaded."), { overloaded: true })];
    for (const err of thrown) {
      const res = errorResponse(err);
      const { error } = (await res.json()) as { error: ErrorBody };
      expect([error.type, error.code, statusOf(error)]).toEqual([error.type, error.code, res.status]);
    }
  });
});
