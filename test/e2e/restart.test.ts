/**
 * Eviction and restarts: the real `wrangler dev` CLI is killed (SIGKILL to its
 * whole process group: npx, wrangler, esbuild, workerd) while turns are in
 * flight, then started again on the same --persist-to folder. Nothing a client
 * was told had been stored may be lost, no thread may stay busy, no turn may stay
 * queued or in_progress, and every thread must take a new turn.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MockUpstream } from "../mock/upstream.ts";
import { apiClient, sseFrames, uniqueId, type Api } from "./client.ts";
import { mockUpstreamVars, serveMockUpstream, startWranglerDev, type ServedMock, type WranglerDev } from "./harness.ts";

const THREADS = 5;
/** Per thread: one loop appending messages and two running turns (so one often waits queued behind the other). */
const TURN_LOOPS = 2;
/** Upper bounds on every loop, whatever happens to the kill. */
const MAX_APPENDS_PER_LOOP = 150;
const MAX_TURNS_PER_LOOP = 40;
/** Load runs at least this long before the kill… */
const LOAD_MIN_MS = 2_500;
/** …and the kill waits at most this long for a streaming turn to be mid-reply. */
const LOAD_MAX_MS = 15_000;
/** Streamed replies are slow (about 25 chunks of 40 ms), so turns are in flight when the kill comes. */
const CHUNK_DELAY_MS = 40;
const FILLER = Array.from({ length: 22 }, (_, i) => `w${i}`).join(" ");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p's value, or `otherwise` if it takes longer than ms. */
async function within<T>(ms: number, p: Promise<T>, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((r) => (timer = setTimeout(() => r(otherwise), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A message a client was answered 2xx for: its content is unique; its id is known once the body was read. */
interface AckedMessage {
  thread: string;
  content: string;
  id: string | null;
}

/** A turn request a client got 2xx for (a streaming turn: the SSE headers; a plain turn: the finished turn). */
interface AckedTurn {
  thread: string;
  input: string;
  stream: boolean;
  turnId: string | null;
  inputMessageId: string | null;
  /** Set while the SSE stream was read: queued → in_progress → its end event's status. */
  seen: "queued" | "in_progress" | "completed" | "incomplete" | "failed" | "cancelled" | null;
  outputMessageId: string | null;
  /** performance.now() when turn.started arrived. */
  startedAt: number | null;
}

interface Ledger {
  messages: AckedMessage[];
  turns: AckedTurn[];
  /** Requests sent whose 2xx never came (refused or cut by the kill, or a non-2xx answer). */
  unacknowledged: { thread: string; what: string; detail: string }[];
  /** Failures (non-2xx or network) while the server was alive: the load itself must not fail. */
  errors: string[];
}

let upstream: ServedMock | undefined;
let stateDir: string | undefined;
/** Servers not yet killed by the test itself. */
const live = new Set<WranglerDev>();
/** Ends the load loops (they also end by themselves: each is bounded). */
let stopLoad = () => {};

afterAll(async () => {
  // Even after a failure: the load stops, every server still running is killed, then the mock and the folder go.
  stopLoad();
  for (const s of live) await s.kill().catch((err) => console.error(err));
  await upstream?.close().catch(() => {});
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe("a wrangler dev killed with SIGKILL while turns are in flight, restarted on the same storage", () => {
  it("keeps every acknowledged message, leaves no thread busy and no turn open, and serves new turns", async () => {
    const t0 = Date.now();
    const mock = new MockUpstream({ chunkDelayMs: CHUNK_DELAY_MS });
    upstream = await serveMockUpstream(mock);
    stateDir = await mkdtemp(join(tmpdir(), "durable-threads-restart-"));
    const persistDir = join(stateDir, "state");
    const vars = { ...mockUpstreamVars(upstream), OPENAI_API_KEY: "x" };

    const first = await startWranglerDev({ persistDir, vars });
    live.add(first);
    const firstStartMs = Date.now() - t0;
    const api1 = apiClient(first.url);

    const threadIds = Array.from({ length: THREADS }, () => uniqueId("restart"));
    for (const id of threadIds) {
      const r = await api1("POST", "/v1/threads", { id, instructions: "Repeat after me." });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }

    // ---- load, then the kill ---------------------------------------------------
    const ledger: Ledger = { messages: [], turns: [], unacknowledged: [], errors: [] };
    let killed = false;
    stopLoad = () => (killed = true);
    const loops: Promise<void>[] = [];
    for (const id of threadIds) {
      loops.push(appendLoop(first.url, id, ledger, () => killed));
      for (let l = 0; l < TURN_LOOPS; l++) loops.push(turnLoop(first.url, id, l, ledger, () => killed));
    }

    const loadStart = Date.now();
    // A streamed reply that started less than 400 ms ago still has most of its ~1 s to go: the kill cuts it.
    const midReply = () => ledger.turns.some((t) => t.seen === "in_progress" && performance.now() - t.startedAt! < 400);
    while (Date.now() - loadStart < LOAD_MIN_MS || !midReply()) {
      if (Date.now() - loadStart > LOAD_MAX_MS) throw new Error(`no streaming turn was mid-reply within ${LOAD_MAX_MS} ms`);
      await sleep(20);
    }
    // What the clients know right before the kill.
    const before = {
      messages: ledger.messages.length,
      turns: ledger.turns.length,
      turnsFinished: ledger.turns.filter((t) => t.seen === "completed").length,
      inFlight: ledger.turns.filter((t) => t.seen === "queued" || t.seen === "in_progress").map((t) => ({ ...t })),
      upstreamRequests: mock.chatRequests().length,
      loadMs: Date.now() - loadStart,
    };
    killed = true;
    await first.kill();
    live.delete(first);
    const settled = await within(20_000, Promise.allSettled(loops).then(() => true), false);
    expect(settled, "every load loop ends once the server is gone").toBe(true);
    expect(ledger.errors, "the load got only 2xx answers before the kill").toEqual([]);
    expect(before.inFlight.length, "turns were in flight when the server was killed").toBeGreaterThan(0);

    // ---- restart on the same storage -------------------------------------------
    const restartAt = Date.now();
    const second = await startWranglerDev({ persistDir, vars });
    live.add(second);
    const secondStartMs = Date.now() - restartAt;
    const api = apiClient(second.url);

    const outcome = { interrupted: 0, completedAfterAll: 0, messagesChecked: 0, turnsChecked: 0 };
    for (const id of threadIds) {
      const thread = await api("GET", `/v1/threads/${id}`);
      expect(thread.status, JSON.stringify(thread.body)).toBe(200);
      expect(thread.body.status, `thread ${id} after the restart`).toBe("idle");

      const messages = await listAll(api, id);
      expect(thread.body.message_count, `thread ${id}: message_count matches the stored messages`).toBe(messages.length);
      const byId = new Map(messages.map((m) => [m.id, m]));
      const byContent = new Map(messages.map((m) => [m.content, m]));
      expect(messages.filter((m) => m.status === "in_progress"), `thread ${id}: no reply left in_progress`).toEqual([]);

      // Every appended message that was acknowledged is there, with its id and content.
      for (const a of ledger.messages.filter((m) => m.thread === id)) {
        const m = a.id ? byId.get(a.id) : byContent.get(a.content);
        expect(m, `acknowledged message ${a.id ?? a.content} of ${id}`).toBeDefined();
        expect(m).toMatchObject({ role: "user", content: a.content, status: "completed" });
        outcome.messagesChecked++;
      }
      // Every acknowledged turn's input is there too, and a turn that had finished still has its reply.
      for (const a of ledger.turns.filter((t) => t.thread === id)) {
        const m = a.inputMessageId ? byId.get(a.inputMessageId) : byContent.get(a.input);
        expect(m, `input of acknowledged turn ${a.turnId ?? a.input} of ${id}`).toBeDefined();
        expect(m).toMatchObject({ role: "user", content: a.input });
        if (a.turnId) expect(m!.turn_id).toBe(a.turnId);
        outcome.messagesChecked++;
        if (a.seen === "completed") {
          const reply = byId.get(a.outputMessageId!);
          expect(reply, `reply of finished turn ${a.turnId}`).toMatchObject({ role: "assistant", status: "completed", turn_id: a.turnId });
        }
      }

      // Every turn the storage knows of (acknowledged or not) is finished: completed, or failed as interrupted.
      const turnIds = new Set<string>(messages.map((m) => m.turn_id).filter((t): t is string => typeof t === "string"));
      for (const a of ledger.turns) if (a.thread === id && a.turnId) turnIds.add(a.turnId);
      for (const turnId of turnIds) {
        const r = await api("GET", `/v1/threads/${id}/turns/${turnId}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        const turn = r.body;
        expect(["completed", "failed"], `turn ${turnId}: ${JSON.stringify(turn)}`).toContain(turn.status);
        if (turn.status === "failed") {
          expect(turn.error, `turn ${turnId}`).toMatchObject({ code: "turn_interrupted" });
          expect(turn.completed_at).toEqual(expect.any(Number));
          outcome.interrupted++;
        } else {
          const reply = byId.get(turn.output_message_id);
          expect(reply, `reply of completed turn ${turnId}`).toMatchObject({ role: "assistant", status: "completed" });
        }
        outcome.turnsChecked++;
      }
      // The turns the client saw queued or running at the kill ended one way or the other, never left open.
      for (const f of before.inFlight.filter((t) => t.thread === id)) {
        const r = await api("GET", `/v1/threads/${id}/turns/${f.turnId}`);
        expect(r.body.status === "completed" || (r.body.status === "failed" && r.body.error?.code === "turn_interrupted"),
          `in-flight turn ${f.turnId}: ${JSON.stringify(r.body)}`).toBe(true);
        if (r.body.status === "completed") outcome.completedAfterAll++;
      }
    }
    expect(outcome.interrupted, "some turn was interrupted by the kill").toBeGreaterThan(0);

    // Every thread takes a new turn that completes, replying to exactly that input, and is idle afterwards.
    mock.chunkDelayMs = 0;
    await Promise.all(threadIds.map(async (id) => {
      const input = `${id} after the restart`;
      const r = await api("POST", `/v1/threads/${id}/turns`, { input });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ status: "completed", error: null, output: { role: "assistant", status: "completed" } });
      expect(r.body.output.content.endsWith(`: ${input}`), r.body.output.content).toBe(true);
      const after = await api("GET", `/v1/threads/${id}`);
      expect(after.body.status).toBe("idle");
    }));

    const summary = {
      startupMs: { first: firstStartMs, second: secondStartMs },
      loadMs: before.loadMs,
      acknowledgedBeforeKill: { messages: before.messages, turns: before.turns, turnsFinished: before.turnsFinished },
      inFlightAtKill: { total: before.inFlight.length, queued: before.inFlight.filter((t) => t.seen === "queued").length,
        inProgress: before.inFlight.filter((t) => t.seen === "in_progress").length },
      inFlightThatCompletedAnyway: outcome.completedAfterAll,
      unacknowledgedRequests: ledger.unacknowledged.length,
      upstreamChatRequestsBeforeKill: before.upstreamRequests,
      afterRestart: outcome,
      totalMs: Date.now() - t0,
    };
    console.log(`restart e2e: ${JSON.stringify(summary)}`);
  }, 120_000);
});

/** Appends user messages to one thread until the kill (bounded), recording each 201. */
async function appendLoop(base: string, thread: string, ledger: Ledger, killed: () => boolean): Promise<void> {
  for (let i = 0; i < MAX_APPENDS_PER_LOOP && !killed(); i++) {
    const content = `${thread} note ${i}`;
    let status = 0;
    try {
      const res = await fetch(`${base}/v1/threads/${thread}/messages`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ role: "user", content }),
      });
      status = res.status;
      if (status >= 200 && status < 300) {
        const ack: AckedMessage = { thread, content, id: null };
        ledger.messages.push(ack);
        ack.id = ((await res.json()) as { id: string }).id;
      } else {
        const text = await res.text();
        if (!killed()) ledger.errors.push(`POST messages ${status}: ${text}`);
        ledger.unacknowledged.push({ thread, what: `message ${content}`, detail: `${status}` });
      }
    } catch (err) {
      if (status === 0) ledger.unacknowledged.push({ thread, what: `message ${content}`, detail: String(err) });
      if (!killed()) ledger.errors.push(`POST messages: ${String(err)}`);
    }
    await sleep(25);
  }
}

/** Runs turns on one thread until the kill (bounded): every other one streamed, the rest plain. */
async function turnLoop(base: string, thread: string, loop: number, ledger: Ledger, killed: () => boolean): Promise<void> {
  for (let i = 0; i < MAX_TURNS_PER_LOOP && !killed(); i++) {
    const stream = (i + loop) % 2 === 0;
    const input = `${thread} turn ${loop}.${i} ${FILLER}`;
    let ack: AckedTurn | null = null;
    try {
      const res = await fetch(`${base}/v1/threads/${thread}/turns`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input, stream }),
      });
      if (res.status < 200 || res.status >= 300) {
        const text = await res.text();
        if (!killed()) ledger.errors.push(`POST turns ${res.status}: ${text}`);
        ledger.unacknowledged.push({ thread, what: `turn ${input}`, detail: `${res.status}` });
        continue;
      }
      ack = { thread, input, stream, turnId: null, inputMessageId: null, seen: null, outputMessageId: null, startedAt: null };
      ledger.turns.push(ack);
      if (!stream) {
        const turn = (await res.json()) as { id: string; status: AckedTurn["seen"]; input_message_ids: string[]; output_message_id: string };
        Object.assign(ack, { turnId: turn.id, inputMessageId: turn.input_message_ids[0], seen: turn.status, outputMessageId: turn.output_message_id });
        continue;
      }
      for await (const frame of sseFrames(res.body!)) {
        const turn = frame.data.turn;
        if (frame.event === "turn.created") {
          Object.assign(ack, { turnId: turn.id, inputMessageId: turn.input_message_ids[0], seen: "queued", outputMessageId: turn.output_message_id });
        } else if (frame.event === "turn.started") {
          Object.assign(ack, { seen: "in_progress", startedAt: frame.at });
        } else if (frame.event.startsWith("turn.") && turn) {
          ack.seen = turn.status;
        }
      }
    } catch (err) {
      if (!ack) ledger.unacknowledged.push({ thread, what: `turn ${input}`, detail: String(err) });
      if (!killed()) ledger.errors.push(`POST turns (stream: ${stream}): ${String(err)}`);
    }
  }
}

/** Every message of a thread, oldest first, page by page (bounded). */
async function listAll(api: Api, thread: string): Promise<any[]> {
  const all: any[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const q: string = `limit=100&order=asc${after ? `&after=${after}` : ""}`;
    const r = await api("GET", `/v1/threads/${thread}/messages?${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    all.push(...r.body.data);
    if (!r.body.has_more) return all;
    after = r.body.last_id;
  }
  throw new Error(`thread ${thread} has more than 100 pages of messages`);
}

