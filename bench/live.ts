/**
 * The live half of the benchmark: what WebSocket clients of a thread pay and wait for.
 *
 * (a) Bytes a client writes on its TCP connection per turn (one turn.create
 *     frame: WebSocket header and mask included), on a thread of 10 and one of
 *     1,000 seeded messages. The client never resends the history, so the two
 *     must be equal within a few bytes; run.ts exits 1 if not.
 * (b) Fan-out: 1, 10, then 100 sockets on one thread; a turn is started over
 *     REST and timed from the request until every socket has received
 *     turn.completed (median over FANOUT_TURNS turns at each count; 1 socket is
 *     the baseline). Every socket must have received every delta of the turn.
 *     Client and server share the machine, so this includes Node parsing
 *     every frame of every socket.
 * (c) Resume: a socket opened with ?after=SEQ, SEQ being a delta in the middle
 *     of a finished turn, timed from opening the connection until the first
 *     replayed event arrives (median over RESUME_SAMPLES connections per thread);
 *     a plain join (snapshot) is timed the same way as a baseline.
 *
 * Uses the Worker and mock upstream run.ts started (zero latency), on threads of its own.
 */
import { within, type Api } from "../test/e2e/client.ts";
import { connectSocket, eventsOf, type LiveSocket } from "../test/e2e/socket.ts";

const BYTES_SIZES = [10, 1_000];
const BYTES_TURNS = 5;
/** Client bytes per turn may differ by this much between the two threads (e.g. a longer number somewhere); history would be kilobytes. */
const BYTES_TOLERANCE = 8;
/** Sockets on the fan-out thread, measured in this order (more are opened for each step). */
const FANOUT_SOCKETS = [1, 10, 100];
const CONNECT_CONCURRENCY = 10;
const FANOUT_TURNS = 5;
const RESUME_SAMPLES = 20;
/** Messages per seeding turn: 50 of 200 characters stay well inside the default model's window. */
const SEED_BATCH = 50;

export interface BytesRow {
  seeded: number;
  /** Messages in the thread when its first measured turn started. */
  messages: number;
  turns: number;
  /** Bytes the client wrote on the wire per turn (median): the turn.create frame with its header and mask. */
  client_bytes_per_turn: number;
  /** The turn.create JSON payload alone. */
  frame_payload_bytes: number;
  /** Bytes the server sent this socket per turn (median): the turn's events, for context. */
  server_bytes_per_turn: number;
}

export interface FanoutRow {
  sockets_requested: number;
  sockets: number;
  turns: number;
  deltas_per_turn: number;
  /** From the REST request until the last socket has turn.completed. */
  median_ms_all_sockets: number;
  /** …until the first socket has it. */
  median_ms_first_socket: number;
  /** …until the REST caller has the finished turn. */
  median_ms_rest_answer: number;
  samples_ms_all_sockets: number[];
}

export interface LiveResult {
  ws_bytes: { rows: BytesRow[]; tolerance_bytes: number; difference_bytes: number; met: boolean };
  fanout: {
    /** Set when fewer sockets than asked could be opened: the first refusal. */
    limit_note: string | null;
    rows: FanoutRow[];
  };
  resume: {
    samples_per_thread: number;
    rows: { seeded: number; messages: number; after_seq: number; replayed_events: number; median_first_event_ms: number;
      p95_first_event_ms: number; median_whole_replay_ms: number }[];
    join_snapshot_median_first_frame_ms: number;
  };
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A 200-character message, numbered; equal length for every n below 10^6. */
function text200(n: number): string {
  const head = `Live ${String(n).padStart(6, "0")}: `;
  return (head + "the quick brown fox jumps over the lazy dog and keeps running through the field ".repeat(3)).slice(0, 200);
}

async function must(api: Api, method: string, path: string, body: unknown, status: number): Promise<any> {
  const r = await api(method, path, body);
  if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * A thread of at least `size` messages of 200 characters, written as turns whose
 * input is a list of up to SEED_BATCH messages (each turn adds its reply): a
 * few requests instead of one per message. Not timed.
 */
async function seededThread(api: Api, id: string, size: number): Promise<number> {
  await must(api, "POST", "/v1/threads", { id }, 201);
  for (let n = 0; n < size; n += SEED_BATCH) {
    const input = Array.from({ length: Math.min(SEED_BATCH, size - n) }, (_, i) =>
      ({ role: (n + i) % 2 === 0 ? "user" : "assistant", content: text200(n + i) }));
    const r = await must(api, "POST", `/v1/threads/${id}/turns`, { input }, 200);
    if (r.status !== "completed") throw new Error(`seeding turn on ${id} ended ${r.status}`);
  }
  return (await must(api, "GET", `/v1/threads/${id}`, undefined, 200)).message_count;
}

/** Runs one turn from the socket and returns what it cost on the wire in each direction. */
async function socketTurn(s: LiveSocket, n: number): Promise<{ wrote: number; read: number; payload: number }> {
  const frame = JSON.stringify({ type: "turn.create", request_id: `turn-${String(n).padStart(4, "0")}`, input: text200(n) });
  const completedBefore = s.ofType("turn.completed").length;
  const [w0, r0] = [s.bytesWritten(), s.bytesRead()];
  s.send(frame);
  await s.waitFor(() => s.ofType("turn.completed").length > completedBefore, `turn ${n} completing on the socket`, 30_000);
  const bad = s.ofType("error");
  if (bad.length) throw new Error(`turn.create answered with an error: ${JSON.stringify(bad[0])}`);
  return { wrote: s.bytesWritten() - w0, read: s.bytesRead() - r0, payload: Buffer.byteLength(frame) };
}

/** The seq of a delta in the middle of the thread's last finished turn, as one socket saw it. */
function midTurnSeq(s: LiveSocket): number {
  const events = eventsOf(s.frames);
  const lastTurn = events.filter((f) => f.type === "turn.completed").at(-1)!.turn.id;
  const deltas = events.filter((f) => f.type === "message.delta" && f.turn_id === lastTurn);
  return deltas[Math.floor(deltas.length / 2)]!.seq;
}

/** Opens a socket and returns the ms until its first frame and until `last` arrives; checks the first frame. */
async function timedConnect(url: string, threadId: string, query: string, first: (f: any) => boolean, last: (f: any) => boolean) {
  const s = await connectSocket(url, threadId, query);
  try {
    await s.waitFor(last, `the last frame of ${query || "a join"}`, 10_000);
    if (!first(s.frames[0])) throw new Error(`unexpected first frame for ${query || "a join"}: ${JSON.stringify(s.frames[0]).slice(0, 200)}`);
    return { firstMs: s.received[0]!.at - s.requestedAt, lastMs: s.received.at(-1)!.at - s.requestedAt, frames: s.frames.length };
  } finally {
    await s.close();
  }
}

/** Opens up to `want` sockets on a thread, CONNECT_CONCURRENCY at a time; stops at the first refusal and says why. */
async function openSockets(url: string, threadId: string, want: number): Promise<{ sockets: LiveSocket[]; note: string | null }> {
  const sockets: LiveSocket[] = [];
  let note: string | null = null;
  while (sockets.length < want && note === null) {
    const batch = Math.min(CONNECT_CONCURRENCY, want - sockets.length);
    const results = await Promise.allSettled(Array.from({ length: batch }, async () => {
      const s = await connectSocket(url, threadId);
      await s.waitFor((f) => f.type === "thread.snapshot", "the snapshot");
      return s;
    }));
    for (const r of results) {
      if (r.status === "fulfilled") sockets.push(r.value);
      else note ??= `socket ${sockets.length + 1} of ${want} failed: ${String(r.reason?.message ?? r.reason)}`;
    }
  }
  return { sockets, note };
}

/** Times FANOUT_TURNS turns (after one warm-up) started over REST until each reaches every socket; checks every socket got every delta. */
async function fanoutTurns(api: Api, threadId: string, sockets: LiveSocket[], base: number): Promise<Omit<FanoutRow, "sockets_requested">> {
  const all: number[] = [];
  const first: number[] = [];
  const rest: number[] = [];
  let deltasPerTurn = 0;
  for (let n = 0; n <= FANOUT_TURNS; n++) {
    const marks = sockets.map((s) => s.received.length);
    const t0 = performance.now();
    const answer = api("POST", `/v1/threads/${threadId}/turns`, { input: text200(500_000 + base + n) }).then((r) => ({ r, at: performance.now() }));
    await within(60_000, `turn ${n} reaching all ${sockets.length} sockets`, Promise.all(sockets.map((s, i) =>
      s.waitFor((f) => f.type === "turn.completed", "turn.completed", 60_000, marks[i]!))));
    const { r, at } = await answer;
    if (r.status !== 200 || r.body.status !== "completed") throw new Error(`fan-out turn failed: ${r.status} ${JSON.stringify(r.body)}`);
    const arrivals = sockets.map((s, i) => {
      const mine = s.received.slice(marks[i]!);
      const done = mine.find((x) => x.frame.type === "turn.completed")!;
      if (done.frame.turn.id !== r.body.id) throw new Error("a socket saw another turn complete");
      const deltas = mine.map((x) => x.frame).filter((f) => f.type === "message.delta" && f.turn_id === r.body.id);
      const text = deltas.map((f) => f.delta).join("");
      if (text !== r.body.output.content) throw new Error(`socket ${i} missed deltas: ${JSON.stringify(text)} vs ${JSON.stringify(r.body.output.content)}`);
      deltasPerTurn = deltas.length;
      return done.at - t0;
    });
    if (n === 0) continue; // warm-up
    all.push(Math.max(...arrivals));
    first.push(Math.min(...arrivals));
    rest.push(at - t0);
  }
  return {
    sockets: sockets.length, turns: all.length, deltas_per_turn: deltasPerTurn,
    median_ms_all_sockets: round(percentile(all, 50), 3), median_ms_first_socket: round(percentile(first, 50), 3),
    median_ms_rest_answer: round(percentile(rest, 50), 3), samples_ms_all_sockets: all.map((x) => round(x, 1)),
  };
}

export async function runLiveBench(url: string, api: Api, stamp: string): Promise<LiveResult> {
  // (a) bytes per turn over WebSocket, and the finished turns (c) resumes into.
  const rows: BytesRow[] = [];
  const resumeRows: LiveResult["resume"]["rows"] = [];
  const threads: { size: number; id: string; socket: LiveSocket }[] = [];
  for (const size of BYTES_SIZES) {
    const id = `bench-live-${size}-${stamp}`;
    const seeded = await seededThread(api, id, size);
    const s = await connectSocket(url, id);
    await s.waitFor((f) => f.type === "thread.snapshot", "the snapshot");
    threads.push({ size: seeded, id, socket: s });
  }
  try {
    for (const t of threads) await socketTurn(t.socket, 0); // warm-up
    const samples = new Map<number, { wrote: number[]; read: number[]; payload: number; messages: number }>();
    for (const t of threads) {
      samples.set(t.size, { wrote: [], read: [], payload: 0, messages: (await must(api, "GET", `/v1/threads/${t.id}`, undefined, 200)).message_count });
    }
    for (let n = 1; n <= BYTES_TURNS; n++) {
      for (const t of threads) {
        const r = await socketTurn(t.socket, n);
        const m = samples.get(t.size)!;
        m.wrote.push(r.wrote);
        m.read.push(r.read);
        m.payload = r.payload;
      }
    }
    for (const t of threads) {
      const m = samples.get(t.size)!;
      rows.push({ seeded: t.size, messages: m.messages, turns: m.wrote.length, client_bytes_per_turn: percentile(m.wrote, 50),
        frame_payload_bytes: m.payload, server_bytes_per_turn: percentile(m.read, 50) });
    }

    // (c) resume into the middle of the last finished turn, on both threads.
    for (const t of threads) {
      const after = midTurnSeq(t.socket);
      const lastSeq = eventsOf(t.socket.frames).at(-1)!.seq;
      const firsts: number[] = [];
      const wholes: number[] = [];
      let replayed = 0;
      for (let i = 0; i < RESUME_SAMPLES; i++) {
        const r = await timedConnect(url, t.id, `?after=${after}`, (f) => f.type === "message.delta" && f.seq === after + 1,
          (f) => f.seq === lastSeq && f.type === "turn.completed");
        firsts.push(r.firstMs);
        wholes.push(r.lastMs);
        replayed = r.frames;
      }
      resumeRows.push({ seeded: t.size, messages: (await must(api, "GET", `/v1/threads/${t.id}`, undefined, 200)).message_count,
        after_seq: after, replayed_events: replayed, median_first_event_ms: round(percentile(firsts, 50), 3),
        p95_first_event_ms: round(percentile(firsts, 95), 3), median_whole_replay_ms: round(percentile(wholes, 50), 3) });
    }
  } finally {
    for (const t of threads) await t.socket.close();
  }
  const joins: number[] = [];
  for (let i = 0; i < RESUME_SAMPLES; i++) {
    const r = await timedConnect(url, threads.at(-1)!.id, "", (f) => f.type === "thread.snapshot", (f) => f.type === "thread.snapshot");
    joins.push(r.firstMs);
  }
  const difference = Math.abs(rows[0]!.client_bytes_per_turn - rows.at(-1)!.client_bytes_per_turn);

  // (b) fan-out of one turn to many sockets.
  const fanId = `bench-fanout-${stamp}`;
  await must(api, "POST", "/v1/threads", { id: fanId }, 201);
  const sockets: LiveSocket[] = [];
  const fanRows: FanoutRow[] = [];
  let limitNote: string | null = null;
  try {
    for (const want of FANOUT_SOCKETS) {
      const opened = await openSockets(url, fanId, want - sockets.length);
      sockets.push(...opened.sockets);
      limitNote ??= opened.note;
      if (sockets.length === 0) throw new Error(`no socket could be opened: ${limitNote}`);
      fanRows.push({ sockets_requested: want, ...(await fanoutTurns(api, fanId, sockets, fanRows.length * 1_000)) });
      if (limitNote) break;
    }
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }

  return {
    ws_bytes: { rows, tolerance_bytes: BYTES_TOLERANCE, difference_bytes: difference, met: difference <= BYTES_TOLERANCE },
    fanout: { limit_note: limitNote, rows: fanRows },
    resume: { samples_per_thread: RESUME_SAMPLES, rows: resumeRows, join_snapshot_median_first_frame_ms: round(percentile(joins, 50), 3) },
  };
}

function table(head: string[], cells: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

/** The live section as printed after the turn table. */
export function formatLive(r: LiveResult): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const b = r.ws_bytes;
  const f = r.fanout;
  const lines = [
    "live threads over WebSocket (ws clients in Node, same Worker and mock upstream)",
    "",
    table(["messages seeded", "messages at start", "turns", "client bytes/turn (wire)", "turn.create payload bytes", "server bytes/turn"],
      b.rows.map((x) => [n(x.seeded), n(x.messages), String(x.turns), String(x.client_bytes_per_turn), String(x.frame_payload_bytes), n(x.server_bytes_per_turn)])),
    "",
    `client bytes per turn: ${b.rows.map((x) => `${n(x.client_bytes_per_turn)} at ${n(x.seeded)} messages`).join(", ")};` +
      ` difference ${b.difference_bytes} ≤ ${b.tolerance_bytes}: ${b.met ? "MET" : "NOT MET"} (the client never resends the history)`,
    "",
    table(["sockets on one thread", "turns", "deltas/turn", "all sockets have turn.completed, median ms", "first socket ms", "REST answer ms"],
      f.rows.map((x) => [x.sockets < x.sockets_requested ? `${x.sockets} (of ${x.sockets_requested})` : String(x.sockets), String(x.turns),
        String(x.deltas_per_turn), x.median_ms_all_sockets.toFixed(2), x.median_ms_first_socket.toFixed(2), x.median_ms_rest_answer.toFixed(2)])),
    ...(f.limit_note ? [`fan-out limit: ${f.limit_note}`] : []),
    "",
    table(["resume ?after=SEQ mid-turn", "messages", "events replayed", "first event median ms", "p95 ms", "whole replay median ms"],
      r.resume.rows.map((x) => [`${n(x.seeded)}-message thread`, n(x.messages), String(x.replayed_events), x.median_first_event_ms.toFixed(2),
        x.p95_first_event_ms.toFixed(2), x.median_whole_replay_ms.toFixed(2)])),
    "",
    `resume: ${r.resume.samples_per_thread} connections per thread, timed from opening the socket;` +
      ` a plain join's snapshot arrives after ${r.resume.join_snapshot_median_first_frame_ms.toFixed(2)} ms (median)`,
  ];
  return lines.join("\n");
}
