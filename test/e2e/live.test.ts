/**
 * Live threads with real clients in Node: `ws` sockets and fetch (REST and SSE)
 * → wrangler's dev server → the Worker and the thread's Durable Object in
 * workerd → the mock upstream on 127.0.0.1, which paces its streamed chunks so
 * that a turn is still running while clients join, drop, resume and cancel.
 * Asserts what the users of a thread see.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { apiClient, openAiError, sseFrames, uniqueId, within, type Api, type SseFrame } from "./client.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "./harness.ts";
import { closeAllSockets, connectSocket, eventsOf, type LiveSocket } from "./socket.ts";

/** Delay between the upstream's streamed chunks (one chunk per word). */
const CHUNK_DELAY_MS = 15;

let upstream: ServedMock;
let worker: RunningWorker;
let api: Api;

beforeAll(async () => {
  upstream = await serveMockUpstream();
  worker = await startWorker({ vars: mockUpstreamVars(upstream) });
  api = apiClient(worker.url);
});

afterAll(async () => {
  await closeAllSockets();
  await worker?.dispose();
  await upstream?.close();
});

beforeEach(() => {
  upstream.mock.chunkDelayMs = CHUNK_DELAY_MS;
});

afterEach(async () => {
  await closeAllSockets();
});

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
/** The mock's reply to the first turn of a thread without instructions. */
const firstReply = (input: string) => `echo(1): ${input}`;

async function newThread(body: object = {}): Promise<string> {
  const id = uniqueId("live");
  const r = await api("POST", "/v1/threads", { id, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return id;
}

/** Connects and waits for the first frame (the snapshot, or the first replayed event). */
async function join(threadId: string, query = ""): Promise<LiveSocket> {
  const s = await connectSocket(worker.url, threadId, query);
  await s.waitFor(() => true, `the first frame on ${threadId}${query}`);
  return s;
}

/** The text of the deltas among `frames`, in order. */
const deltaText = (frames: any[]) => frames.filter((f) => f.type === "message.delta").map((f) => f.delta).join("");

/** Asserts that the seqs are consecutive integers starting at `first`: no gap, no duplicate. */
function expectGapFree(seqs: number[], first: number): void {
  expect(seqs).toEqual(seqs.map((_, i) => first + i));
}

/** Every message of a thread, oldest first, read page by page. */
async function allMessages(threadId: string, pageSize = 30): Promise<any[]> {
  const out: any[] = [];
  let after = "";
  for (let page = 0; page < 50; page++) {
    const r = await api("GET", `/v1/threads/${threadId}/messages?limit=${pageSize}${after}`);
    expect(r.status).toBe(200);
    out.push(...r.body.data);
    if (!r.body.has_more) return out;
    after = `&after=${r.body.last_id}`;
  }
  throw new Error("more than 50 pages of messages");
}

/** The thread's stored messages and its state. */
async function threadNow(threadId: string): Promise<any> {
  const r = await api("GET", `/v1/threads/${threadId}`);
  expect(r.status).toBe(200);
  return r.body;
}

/**
 * Resolves once the object has handled every frame this socket sent before
 * and sent it every event emitted before that: a ping with a request_id is not
 * answered by the runtime's auto-response but by the object, in order.
 */
async function roundTrip(s: LiveSocket, id: string): Promise<void> {
  s.send({ type: "ping", request_id: id });
  await s.waitFor((f) => f.type === "pong" && f.request_id === id, `the pong to ${id}`);
}

/** Reads an SSE body until `stop` is true for the frames so far (then drops the connection) or the body ends. */
async function readSse(res: Response, stop: (frames: SseFrame[]) => boolean = () => false, ms = 10_000): Promise<SseFrame[]> {
  expect(res.status).toBe(200);
  const frames: SseFrame[] = [];
  await within(ms, "the SSE stream ending", (async () => {
    for await (const f of sseFrames(res.body!)) {
      frames.push(f);
      if (stop(frames)) break; // leaving the loop cancels the body: the client goes away mid-stream
    }
  })());
  return frames;
}

function post(path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(worker.url + path, {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
    signal: signal ?? AbortSignal.timeout(15_000),
  });
}

describe("GET /v1/threads/{id}/ws: live fan-out", () => {
  it("sends every delta of a turn one socket started to both sockets, and acknowledges the starter", async () => {
    const id = await newThread();
    const a = await join(id);
    const b = await join(id);
    const snapSeq = a.frames[0].seq;
    expect(a.frames[0]).toMatchObject({ type: "thread.snapshot", thread: { id, message_count: 0 }, messages: [] });
    const input = words(20);

    a.send({ type: "turn.create", request_id: "r1", input });
    const ack = await a.waitFor((f) => f.type === "turn.accepted", "turn.accepted");
    expect(ack).toMatchObject({ type: "turn.accepted", request_id: "r1", turn: { object: "thread.turn", thread_id: id } });
    const turnId = ack.turn.id;
    for (const s of [a, b]) await s.waitFor((f) => f.type === "turn.completed", "turn.completed", 10_000);

    const stored = (await allMessages(id))[1];
    expect(stored).toMatchObject({ role: "assistant", status: "completed", turn_id: turnId, content: firstReply(input) });
    for (const s of [a, b]) {
      const events = eventsOf(s.frames);
      expect(events.map((f) => f.type).slice(0, 4)).toEqual(["turn.created", "message.created", "turn.started", "message.created"]);
      expect(events.at(-1)).toMatchObject({ type: "turn.completed", turn: { id: turnId, status: "completed" } });
      expect(s.ofType("message.delta").length).toBeGreaterThanOrEqual(20);
      expect(deltaText(s.frames)).toBe(stored.content);
      expectGapFree(events.map((f) => f.seq), snapSeq + 1);
    }
    expect(eventsOf(b.frames)).toEqual(eventsOf(a.frames));
    expect(b.ofType("turn.accepted")).toEqual([]);
  });

  it("delivers a turn started over REST to every socket, delta by delta", async () => {
    const id = await newThread();
    const a = await join(id);
    const b = await join(id);
    const input = words(12);
    const r = await api("POST", `/v1/threads/${id}/turns`, { input });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.output.content).toBe(firstReply(input));
    for (const s of [a, b]) {
      const done = await s.waitFor((f) => f.type === "turn.completed", "turn.completed");
      expect(done.turn.id).toBe(r.body.id);
      expect(s.ofType("message.completed").at(-1).message).toEqual(r.body.output);
      expect(deltaText(s.frames)).toBe(r.body.output.content);
      expect(s.ofType("message.delta").every((f) => f.turn_id === r.body.id && f.message_id === r.body.output.id)).toBe(true);
    }
    expect(eventsOf(b.frames)).toEqual(eventsOf(a.frames));
  });
});

describe("resuming after a dropped connection", () => {
  it("a socket closed mid-turn reconnects with ?after=<last seq it saw> and gets the rest exactly once", async () => {
    const id = await newThread();
    const input = words(60);
    const first = await join(id);
    const snapSeq = first.frames[0].seq;
    const turn = api("POST", `/v1/threads/${id}/turns`, { input });
    await first.waitFor(() => first.ofType("message.delta").length >= 5, "five deltas");
    first.terminate(); // no close frame: the connection just drops
    const seen = eventsOf(first.frames);
    const lastSeen = seen.at(-1).seq;

    const again = await join(id, `?after=${lastSeen}`);
    await again.waitFor((f) => f.type === "turn.completed", "turn.completed after resuming", 10_000);
    const rest = eventsOf(again.frames);
    expect(again.ofType("thread.snapshot")).toEqual([]);
    expect(rest[0].seq).toBe(lastSeen + 1);
    // The drop really was mid-turn: part of the reply came only after resuming.
    expect(rest.some((f) => f.type === "message.delta")).toBe(true);

    const all = [...seen, ...rest];
    expectGapFree(all.map((f) => f.seq), snapSeq + 1);
    const r = await turn;
    expect(r.status).toBe(200);
    const stored = (await allMessages(id))[1];
    expect(stored).toEqual(r.body.output);
    expect(stored.content).toBe(firstReply(input));
    expect(deltaText(all)).toBe(stored.content);
    expect(all.at(-1)).toMatchObject({ type: "turn.completed", turn: { id: r.body.id } });
  });

  it("an SSE stream dropped mid-turn resumes with Last-Event-ID on GET …/events and gets the rest exactly once", async () => {
    const id = await newThread();
    const input = words(60);
    const seen = await readSse(await post(`/v1/threads/${id}/turns`, { input, stream: true }),
      (fs) => fs.filter((f) => f.event === "message.delta").length >= 5);
    const lastId = seen.at(-1)!.id!;

    const res = await fetch(`${worker.url}/v1/threads/${id}/events`, { headers: { "Last-Event-ID": lastId }, signal: AbortSignal.timeout(15_000) });
    const rest = await readSse(res);
    expect(Number(rest[0]!.id)).toBe(Number(lastId) + 1);
    expect(rest.some((f) => f.event === "message.delta")).toBe(true);
    expect(rest.at(-1)!.event).toBe("turn.completed");

    const all = [...seen, ...rest];
    for (const f of all) expect(f.data.seq).toBe(Number(f.id));
    expectGapFree(all.map((f) => Number(f.id)), Number(all[0]!.id));
    expect(all[0]!.event).toBe("turn.created");
    const stored = (await allMessages(id))[1];
    expect(stored).toMatchObject({ role: "assistant", status: "completed", content: firstReply(input) });
    expect(all.filter((f) => f.event === "message.delta").map((f) => f.data.delta).join("")).toBe(stored.content);
    expect(all.find((f) => f.event === "message.completed")!.data.message).toEqual(stored);
  });
});

describe("cancelling a running turn", () => {
  /** Checks what every user sees after a cancel: the partial reply kept as incomplete, the turn cancelled, the thread idle. */
  async function expectCancelled(id: string, turnId: string, s: LiveSocket, input: string): Promise<void> {
    const ended = await s.waitFor((f) => f.type === "turn.cancelled" || f.type === "turn.completed", "the turn ending");
    expect(ended).toMatchObject({ type: "turn.cancelled", turn: { id: turnId, status: "cancelled" } });
    const msgs = await allMessages(id);
    expect(msgs.map((m) => [m.role, m.status])).toEqual([["user", "completed"], ["assistant", "incomplete"]]);
    const partial = msgs[1];
    expect(partial.turn_id).toBe(turnId);
    expect(partial.content.length).toBeGreaterThan(0);
    expect(partial.content.length).toBeLessThan(firstReply(input).length);
    expect(firstReply(input).startsWith(partial.content)).toBe(true);
    // The sockets saw exactly the text that was kept.
    expect(deltaText(s.frames)).toBe(partial.content);
    expect(s.ofType("message.completed").at(-1).message).toEqual(partial);
    expect((await api("GET", `/v1/threads/${id}/turns/${turnId}`)).body).toMatchObject({ status: "cancelled", output_message_id: partial.id });
    expect(await threadNow(id)).toMatchObject({ status: "idle", message_count: 2 });
  }

  it("POST …/turns/{turn_id}/cancel keeps the partial reply as an incomplete message and the turn is cancelled", async () => {
    const id = await newThread();
    const input = words(100);
    const s = await join(id);
    s.send({ type: "turn.create", request_id: "long", input });
    const turnId = (await s.waitFor((f) => f.type === "turn.accepted", "turn.accepted")).turn.id;
    await s.waitFor(() => s.ofType("message.delta").length >= 3, "three deltas");
    const r = await api("POST", `/v1/threads/${id}/turns/${turnId}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: turnId, object: "thread.turn", status: "cancelled" });
    await expectCancelled(id, turnId, s, input);
  });

  it("a turn.cancel frame does the same, and the REST caller waiting on the turn gets it cancelled", async () => {
    const id = await newThread();
    const input = words(100);
    const s = await join(id);
    const waiting = api("POST", `/v1/threads/${id}/turns`, { input });
    await s.waitFor(() => s.ofType("message.delta").length >= 3, "three deltas");
    const turnId = s.ofType("turn.created")[0].turn.id;
    s.send({ type: "turn.cancel", request_id: "stop", turn_id: turnId });
    const result = await s.waitFor((f) => f.type === "turn.cancel.result", "turn.cancel.result");
    expect(result).toMatchObject({ request_id: "stop", turn: { id: turnId, status: "cancelled" } });
    await expectCancelled(id, turnId, s, input);
    const r = await waiting;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: turnId, status: "cancelled", output: { status: "incomplete" } });
  });
});

describe("turn strategies under concurrency", () => {
  it("50 concurrent enqueue turns, half REST and half socket, give 50 user and 50 assistant messages in strict alternation", async () => {
    upstream.mock.chunkDelayMs = 1;
    const id = await newThread();
    const s = await join(id);
    const inputs = Array.from({ length: 50 }, (_, i) => `q${i} ${i % 2 ? "rest" : "socket"}`);
    const rest = inputs.filter((_, i) => i % 2).map((input) => api("POST", `/v1/threads/${id}/turns`, { input, strategy: "enqueue" }));
    inputs.forEach((input, i) => {
      if (i % 2 === 0) s.send({ type: "turn.create", request_id: `q${i}`, input, strategy: "enqueue" });
    });
    const results = await Promise.all(rest);
    for (const r of results) expect(r.body).toMatchObject({ status: "completed", output: { role: "assistant" } });
    await s.waitFor(() => s.ofType("turn.completed").length === 50, "50 turn.completed events", 20_000);
    const acks = s.ofType("turn.accepted");
    expect(acks).toHaveLength(25);
    expect(new Set(acks.map((a) => a.turn.id)).size).toBe(25);
    expect(s.ofType("error")).toEqual([]);

    const msgs = await allMessages(id);
    expect(msgs).toHaveLength(100);
    msgs.forEach((m, i) => expect([m.role, m.status]).toEqual([i % 2 ? "assistant" : "user", "completed"]));
    expect(msgs.every((m, i) => i === 0 || m.seq > msgs[i - 1].seq)).toBe(true);
    for (let i = 0; i < 100; i += 2) {
      expect(msgs[i + 1].turn_id).toBe(msgs[i].turn_id);
      // Each reply answers its own question, having been sent every message before it.
      expect(msgs[i + 1].content).toBe(`echo(${i + 1}): ${msgs[i].content}`);
    }
    expect(msgs.filter((m) => m.role === "user").map((m) => m.content).sort()).toEqual([...inputs].sort());
    expect(await threadNow(id)).toMatchObject({ message_count: 100, status: "idle" });
  });

  it("20 concurrent reject turns while the first is running give one success and 19 409 conflict_errors", async () => {
    const id = await newThread();
    const before = upstream.mock.chatRequests().length;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      api("POST", `/v1/threads/${id}/turns`, { input: `${words(20)} from ${i}`, strategy: "reject" })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.status).toBe("completed");
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(openAiError(r)).toMatchObject({ type: "conflict_error" });
    expect(await threadNow(id)).toMatchObject({ message_count: 2, status: "idle" });
    expect(upstream.mock.chatRequests().length - before).toBe(1);
  });
});

describe("Idempotency-Key on POST /v1/threads/{id}/turns", () => {
  it("a duplicate key creates nothing: the same turn comes back, no new message, no new upstream request", async () => {
    const id = await newThread();
    const s = await join(id);
    const before = upstream.mock.chatRequests().length;
    const key = { "Idempotency-Key": uniqueId("key") };
    const a = await api("POST", `/v1/threads/${id}/turns`, { input: "only once" }, key);
    const b = await api("POST", `/v1/threads/${id}/turns`, { input: "only once" }, key);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(await threadNow(id)).toMatchObject({ message_count: 2 });
    expect(upstream.mock.chatRequests().length - before).toBe(1);
    await roundTrip(s, "after-retry");
    expect(s.ofType("turn.created")).toHaveLength(1);
  });
});

describe("bad frames", () => {
  it("are answered with {type:'error', request_id, error} and the socket stays open", async () => {
    const id = await newThread();
    const before = upstream.mock.chatRequests().length;
    const s = await join(id);
    s.send("this is not json");
    s.send({ type: "dance", request_id: "b1" });
    s.send({ type: "turn.create", request_id: "b2" });
    await s.waitFor(() => s.ofType("error").length >= 3, "three error frames");
    const errors = s.ofType("error");
    expect(errors.map((e) => e.request_id)).toEqual([null, "b1", "b2"]);
    for (const e of errors) {
      expect(Object.keys(e).sort()).toEqual(["error", "request_id", "type"]);
      expect(e.error).toMatchObject({ type: "invalid_request_error" });
      expect(typeof e.error.message).toBe("string");
    }
    expect(errors[2].error.param).toBe("input");

    s.send({ type: "ping" });
    await s.waitFor((f) => f.type === "pong", "a pong");
    expect(s.closed).toBe(false);
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    expect(await threadNow(id)).toMatchObject({ message_count: 0, status: "idle" });
    expect(upstream.mock.chatRequests().length - before).toBe(0);
  });
});
