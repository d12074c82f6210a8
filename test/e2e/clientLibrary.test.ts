/**
 * The client library (`durable-threads/client`, the package entry as users
 * import it) in Node against the Worker under wrangler: the API-key header
 * and tickets, typed events, and reconnecting after a real TCP drop (a proxy
 * between client and Worker cuts every connection mid-reply).
 */
import { createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ApiError, DurableThreads, type ServerFrame, type ThreadSocket } from "durable-threads/client";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "./harness.ts";
import { echoReply } from "../mock/upstream.ts";
import { within } from "./client.ts";

const KEY = "sk-client-lib";
const WORDS = Array.from({ length: 40 }, (_, i) => `w${String(i + 1).padStart(2, "0")}`);

/** A TCP proxy to the Worker whose connections can all be cut at once, as a network drop would. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut(): void; refuse(on: boolean): void; close(): Promise<void> }> {
  const open = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new (client.constructor as typeof Socket)();
    upstream.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refuse: (on) => {
      refusing = on;
    },
    cut: () => {
      for (const s of open) s.resetAndDestroy();
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** `ws` that records every URL it is asked to open. */
function recordingWebSocket(urls: string[]) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[], opts?: WebSocket.ClientOptions) {
      urls.push(url);
      super(url, protocols, opts);
    }
  };
}

function collect(socket: ThreadSocket): ServerFrame[] {
  const frames: ServerFrame[] = [];
  socket.onFrame((f) => frames.push(f));
  return frames;
}

async function until<T>(what: string, check: () => T | undefined | false, ms = 30_000): Promise<T> {
  return within(ms, what, (async () => {
    for (;;) {
      const v = check();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
  })());
}

describe("durable-threads/client in Node", () => {
  let served: ServedMock;
  let worker: RunningWorker;
  let client: DurableThreads;
  const sockets: ThreadSocket[] = [];

  beforeAll(async () => {
    served = await serveMockUpstream();
    const vars: Record<string, string> = { ...mockUpstreamVars(served), API_KEYS: JSON.stringify({ [KEY]: "client" }) };
    delete vars.AUTH_MODE;
    worker = await startWorker({ vars });
    client = new DurableThreads({ baseUrl: worker.url, apiKey: KEY });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    served.mock.reply = echoReply;
    served.mock.chunkDelayMs = 0;
  });
  afterAll(async () => {
    await worker?.dispose();
    await served?.close();
  });

  it("raises the server's OpenAI-shaped error as ApiError", async () => {
    const err = await client.retrieveThread("no-such-thread").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect((err as ApiError).error.type).toBe("not_found_error");
    const anonymous = new DurableThreads({ baseUrl: worker.url });
    expect(await anonymous.listThreads().catch((e: ApiError) => e.status)).toBe(401);
  });

  it("connects with the API key header, starts a turn, and delivers typed events once each in seq order", async () => {
    const thread = await client.createThread({ metadata: { title: "node" } });
    const urls: string[] = [];
    const live = client.connect(thread.id, { auth: "header", WebSocket: recordingWebSocket(urls) });
    sockets.push(live);
    const frames = collect(live);
    const snapshot = await until("the snapshot", () => frames.find((f) => f.type === "thread.snapshot"));
    expect(snapshot.type === "thread.snapshot" && snapshot.thread.id).toBe(thread.id);
    const turn = await live.send("hello from node");
    expect(turn.object).toBe("thread.turn");
    await until("the turn's end", () => frames.find((f) => f.type === "turn.completed"));
    const deltas = frames.flatMap((f) => (f.type === "message.delta" ? [f.delta] : []));
    const reply = frames.find((f) => f.type === "message.completed" && f.message.role === "assistant");
    expect(reply?.type === "message.completed" && reply.message.content).toBe(deltas.join(""));
    const seqs = frames.flatMap((f) => ("seq" in f && f.type !== "thread.snapshot" ? [f.seq] : []));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(urls).toHaveLength(1);
    expect(urls[0]).not.toContain("ticket=");
  });

  it("reconnects by itself after the network drops mid-reply, with ?after=<last seq>, losing and repeating no delta", async () => {
    served.mock.reply = () => WORDS.join(" ");
    served.mock.chunkDelayMs = 60;
    const proxy = await cuttableProxy(new URL(worker.url));
    try {
      const viaProxy = new DurableThreads({ baseUrl: proxy.url, apiKey: KEY });
      const thread = await viaProxy.createThread();
      const urls: string[] = [];
      // Tickets (the default) in Node too: each connection fetches a fresh one through the same proxy.
      const live = viaProxy.connect(thread.id, { WebSocket: recordingWebSocket(urls) });
      sockets.push(live);
      const frames = collect(live);
      await until("the snapshot", () => live.status === "open" && frames.length > 0);
      await live.send("count to forty");
      await until("a few deltas", () => frames.filter((f) => f.type === "message.delta").length >= 5);
      const seenBeforeCut = live.lastSeq;
      proxy.cut();
      await until("the turn's end", () => frames.find((f) => f.type === "turn.completed"), 40_000);
      expect(urls.length).toBeGreaterThanOrEqual(2);
      expect(urls[0]).not.toContain("after=");
      expect(Number(new URL(urls[1]!).searchParams.get("after"))).toBeGreaterThanOrEqual(seenBeforeCut!);
      for (const url of urls) expect(url).toMatch(/[?&]ticket=wst_/);
      const deltas = frames.flatMap((f) => (f.type === "message.delta" ? [f.delta] : []));
      expect(deltas.join("")).toBe(WORDS.join(" "));
      const stored = await client.listMessages(thread.id, { order: "desc", limit: 1 });
      expect(stored.data[0]!.content).toBe(deltas.join(""));
    } finally {
      await proxy.close();
    }
  });

  it("cancels a turn mid-reply with cancel(): turn.cancelled arrives and the partial reply is kept as incomplete", async () => {
    served.mock.reply = () => WORDS.join(" ");
    served.mock.chunkDelayMs = 60;
    const thread = await client.createThread();
    const live = client.connect(thread.id, { WebSocket: WebSocket as never });
    sockets.push(live);
    const frames = collect(live);
    await until("open", () => live.status === "open");
    const turn = await live.send("count to forty, slowly");
    await until("a few deltas", () => frames.filter((f) => f.type === "message.delta").length >= 3);
    const cancelled = await within(30_000, "the cancel answer", live.cancel(turn.id));
    expect(cancelled.id).toBe(turn.id);
    const ended = await until("turn.cancelled", () => frames.find((f) => f.type === "turn.cancelled"));
    expect(ended.type === "turn.cancelled" && ended.turn.id).toBe(turn.id);
    expect(frames.find((f) => f.type === "turn.completed")).toBeUndefined();
    const reply = (await client.listMessages(thread.id, { order: "desc", limit: 1 })).data[0]!;
    expect(reply.role).toBe("assistant");
    expect(reply.status).toBe("incomplete");
    expect(String(reply.content).length).toBeGreaterThan(0);
    expect(String(reply.content).length).toBeLessThan(WORDS.join(" ").length);
    expect((await client.retrieveTurn(thread.id, turn.id)).status).toBe("cancelled");
  });

  it("sends a turn asked for while disconnected once the socket is back, and creates it once", async () => {
    const proxy = await cuttableProxy(new URL(worker.url));
    try {
      const viaProxy = new DurableThreads({ baseUrl: proxy.url, apiKey: KEY });
      const thread = await viaProxy.createThread();
      const live = viaProxy.connect(thread.id, { WebSocket: WebSocket as never });
      sockets.push(live);
      await until("open", () => live.status === "open");
      // The network goes away and stays away (new connections are refused) while the turn is asked for.
      proxy.refuse(true);
      proxy.cut();
      await until("the drop", () => live.status === "connecting");
      const accepted = live.send("sent while offline");
      await new Promise((r) => setTimeout(r, 500));
      expect(live.status).toBe("connecting");
      proxy.refuse(false);
      const turn = await within(30_000, "the turn accepted", accepted);
      expect(turn.status).toMatch(/queued|in_progress|completed/);
      const messages = await client.listMessages(thread.id);
      expect(messages.data.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["sent while offline"]);
    } finally {
      await proxy.close();
    }
  });
});
