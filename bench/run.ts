/**
 * Benchmark: what one turn costs as a thread grows, and what a stored message costs on disk.
 *
 * Runs the Worker in local workerd (wrangler's dev server) against the mock
 * upstream served on 127.0.0.1 with zero latency, seeds threads of 10, 1,000 and
 * 10,000 messages of 200 characters (not timed), then times sequential
 * non-streaming turns with a 200-character input on each. The threads take turns
 * round-robin (one turn on each per round, the order rotating), so drift in the
 * machine's speed during the run affects every size alike.
 *
 * This section's bar (the bench's own guard against a turn whose cost grows with
 * the history, kept from an earlier DESIGN.md; DESIGN.md now states its targets
 * against the plain DO, checked in the third and fourth sections): the median
 * turn at 10,000 messages takes at most 1.5x the median turn at 10 messages, in
 * the same run. Exits 1 if not.
 * Every request also pays a fixed cost (Node's fetch, wrangler's proxy, the
 * Worker, a Durable Object call), printed as a baseline so that the part of a
 * turn that could grow with the thread is visible on its own.
 *
 * A second section (bench/live.ts) measures live WebSocket clients on the same
 * Worker: bytes a client sends per turn at 10 and 1,000 messages (must be
 * equal: the client never resends the history; exits 1 if not), the time for
 * one turn to reach 100 sockets on one thread, and resume latency with ?after=SEQ.
 *
 * A third section (bench/vsPlain.ts) compares a turn of ours with DESIGN.md's
 * plain Durable Object (bench/plain/: insert the user row, select the last 50,
 * insert the reply) on threads of 10 and 10,000 messages, both Workers behind
 * the same local proxy and ours on the in-process dev/echo model, with each
 * Worker's request baseline; then restarts both and times the cold wake of each
 * thread. Reported only (DESIGN's "within 3x, 2x the aim" is printed through the
 * proxy; it does not set the exit code).
 *
 * A fourth section (bench/inWorker.ts) makes the same comparison timed inside
 * workerd (a bench Worker with service bindings to ours and the plain DO, so no
 * proxy is in the figures) against issue 13's bars (within 3x of the plain DO
 * at 10 and 10,000 messages; at most 2 ms slower at 10,000 than at 10), and
 * measures the directory updates per second one shard sustains. A fifth
 * (bench/profile.ts) is a CPU profile of turns at 10 and 10,000 messages, per
 * source file. A sixth (bench/load.ts) is the load test: 200 threads x 20 turns,
 * 50 threads at a time, reporting throughput and p50/p99, and reading every
 * thread back: 0 errors and 0 lost messages are required.
 *
 * Usage: npm run bench [-- --turns N] [-- --only inworker,profile,load]
 * (--only runs just those of the later sections, skipping the first three).
 * Writes bench/results/latest.json and a dated copy.
 */
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MockUpstream } from "../test/mock/upstream.ts";
import { apiClient, type Api } from "../test/e2e/client.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker } from "../test/e2e/harness.ts";
import { formatLive, runLiveBench } from "./live.ts";
import { formatVsPlain, runVsPlainBench, type VsPlainResult } from "./vsPlain.ts";
import { formatInWorker, runInWorkerBench } from "./inWorker.ts";
import { formatLoad, runLoadBench } from "./load.ts";
import { formatProfile, runProfile } from "./profile.ts";

const SIZES = [10, 1_000, 10_000];
const TURNS = Number(argValue("--turns") ?? 50);
if (!Number.isInteger(TURNS) || TURNS < 1) throw new Error("--turns must be a positive integer");
const WARMUP_TURNS = 3;
const SEED_CONCURRENCY = 16;
const BAR_RATIO = 1.5;
/** DESIGN.md: a 200-character message is stored in under 300 bytes. */
const BYTES_TARGET = 300;
const RESULTS = new URL("./results/", import.meta.url);

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** A message of exactly 200 characters, numbered so that each one is distinct. */
function text200(n: number): string {
  const head = `Message ${n}: `;
  const body = "the quick brown fox jumps over the lazy dog and keeps running through the field ";
  return (head + body.repeat(3)).slice(0, 200);
}

interface Bench {
  size: number;
  id: string;
  /** The thread's Durable Object SQLite file, found when the thread was created. */
  dbFile: string;
  times: number[];
  /** For each timed turn, how many messages the upstream was sent (the context window's worth at most). */
  sent: number[];
}

interface Row {
  seeded: number;
  messages: number;
  turns: number;
  /** Mean messages sent upstream per timed turn. */
  sent_upstream: number;
  median_ms: number;
  p95_ms: number;
  db_bytes: number;
  bytes_per_message: number;
}

function percentile(sorted: number[], p: number): number {
  // Nearest-rank: the smallest value with at least p% of the samples at or below it.
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The SQLite files of all ThreadObjects under the persist dir (`v3/do/<script>-ThreadObject/<id>.sqlite`). */
async function threadDbFiles(persistDir: string): Promise<Set<string>> {
  const doRoot = join(persistDir, "v3", "do");
  const out = new Set<string>();
  for (const dir of await readdir(doRoot).catch(() => [] as string[])) {
    if (!dir.endsWith("-ThreadObject")) continue;
    for (const f of await readdir(join(doRoot, dir))) {
      if (f.endsWith(".sqlite") && f !== "metadata.sqlite") out.add(join(doRoot, dir, f));
    }
  }
  return out;
}

async function must(api: Api, method: string, path: string, body: unknown, status: number): Promise<any> {
  const r = await api(method, path, body);
  if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Creates a thread and returns it with its SQLite file: the one new file under the persist dir. */
async function createThread(api: Api, persistDir: string, size: number, stamp: string): Promise<Bench> {
  const before = await threadDbFiles(persistDir);
  const id = `bench-${size}-${stamp}`;
  await must(api, "POST", "/v1/threads", { id }, 201);
  const added = [...(await threadDbFiles(persistDir))].filter((f) => !before.has(f));
  if (added.length !== 1) throw new Error(`expected one new Durable Object file for ${id}, found ${added.length}`);
  return { size, id, dbFile: added[0]!, times: [], sent: [] };
}

async function seed(api: Api, b: Bench): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < b.size) {
      const n = next++;
      await must(api, "POST", `/v1/threads/${b.id}/messages`, { role: n % 2 === 0 ? "user" : "assistant", content: text200(n) }, 201);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

/** Runs one turn; returns its wall time in ms and how many messages the upstream received for it. */
async function turn(api: Api, mock: MockUpstream, b: Bench, n: number): Promise<{ ms: number; sent: number }> {
  const started = performance.now();
  const r = await api("POST", `/v1/threads/${b.id}/turns`, { input: text200(1_000_000 + n) });
  const ms = performance.now() - started;
  if (r.status !== 200 || r.body.status !== "completed") throw new Error(`turn on ${b.id} failed: ${r.status} ${JSON.stringify(r.body)}`);
  const sent: number = mock.chatRequests().at(-1)!.body.messages.length;
  mock.reset();
  return { ms, sent };
}

/**
 * Bytes a thread's Durable Object occupies on disk. workerd keeps each object's
 * SQLite database in WAL mode, so recent writes sit in `<id>.sqlite-wal`, often
 * several versions of the same page. We copy `<id>.sqlite` and its `-wal` (after
 * the Worker has stopped), check the copy's WAL into the database with
 * `PRAGMA wal_checkpoint(TRUNCATE)`, and count page_count * page_size: the
 * database as it would rest, without WAL duplicates, free pages included.
 * Bytes per stored message is then the difference between the 10,000- and the
 * 10-message threads divided by the difference in their messages (both hold the
 * same schema, turns and bench turns), so fixed costs cancel out.
 */
async function restingDbBytes(dbFile: string, scratch: string): Promise<number> {
  const copy = join(scratch, `copy-${Math.random().toString(36).slice(2)}.sqlite`);
  await copyFile(dbFile, copy);
  const wal = await stat(`${dbFile}-wal`).catch(() => null);
  if (wal) await copyFile(`${dbFile}-wal`, `${copy}-wal`);
  const db = new DatabaseSync(copy);
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const { page_count } = db.prepare("PRAGMA page_count").get() as { page_count: number };
    const { page_size } = db.prepare("PRAGMA page_size").get() as { page_size: number };
    return page_count * page_size;
  } finally {
    db.close();
  }
}

/** Writes the results as latest.json (full runs only) and a dated copy (`-partial` for --only runs). */
async function writeResults(result: object, full = true): Promise<string[]> {
  await mkdir(RESULTS, { recursive: true });
  const dated = `${new Date().toISOString().replace(/[:.]/g, "-")}${full ? "" : "-partial"}.json`;
  const written: string[] = [];
  for (const name of full ? ["latest.json", dated] : [dated]) {
    const path = new URL(name, RESULTS);
    const tmp = new URL(`${name}.tmp`, RESULTS);
    await writeFile(tmp, JSON.stringify(result, null, 2) + "\n");
    await rename(tmp, path);
    written.push(`bench/results/${name}`);
  }
  return written;
}

function table(rows: Row[]): string {
  const head = ["messages seeded", "turns", "msgs sent/turn", "median ms", "p95 ms", "db bytes", "db bytes/message"];
  const cells = rows.map((r) => [r.seeded.toLocaleString("en-US"), String(r.turns), String(r.sent_upstream), r.median_ms.toFixed(2), r.p95_ms.toFixed(2),
    r.db_bytes.toLocaleString("en-US"), String(r.bytes_per_message)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

/** The sections that scale and cost rest on (issue 13): in-Worker comparison, CPU profile, load. Each failure is reported, not thrown. */
async function scaleSections(only: Set<string> | null) {
  const wanted = (name: string) => only === null || only.has(name);
  const attempt = async <T>(name: string, fn: () => Promise<T>, format: (r: T) => string): Promise<T | { error: string } | null> => {
    if (!wanted(name)) return null;
    try {
      const r = await fn();
      console.log("");
      console.log(format(r));
      return r;
    } catch (err) {
      console.error(`${name}: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return { error: String(err) };
    }
  };
  const inWorker = await attempt("inworker", () => runInWorkerBench(), formatInWorker);
  const profile = [];
  for (const size of [10, 10_000]) profile.push(await attempt("profile", () => runProfile({ size, turns: 200 }), formatProfile));
  const load = await attempt("load", () => runLoadBench({ threads: 200, turns: 20, concurrency: 50 }), formatLoad);
  const failed = (r: unknown) => r !== null && typeof r === "object" && "error" in r;
  const met = !failed(inWorker) && !failed(load) && !profile.some(failed) &&
    (inWorker === null || ("bars" in inWorker && inWorker.bars.ratio_met && inWorker.bars.growth_met)) &&
    (load === null || ("met" in load && load.met));
  return { in_worker: inWorker, profile, load, met };
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const onlyArg = argValue("--only");
  if (onlyArg !== undefined) {
    const scale = await scaleSections(new Set(onlyArg.split(",")));
    for (const path of await writeResults({ date: new Date().toISOString(), turns_per_thread: TURNS, ...scale,
      total_seconds: round((performance.now() - t0) / 1000, 1) }, false)) console.log(`wrote ${path}`);
    return scale.met ? 0 : 1;
  }
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-bench-"));
  const persistDir = join(scratch, "state");
  const served = await serveMockUpstream(new MockUpstream({ chunkDelayMs: 0 }));
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    worker = await startWorker({ vars: mockUpstreamVars(served), persistDir });
    const api = apiClient(worker.url);
    const stamp = Date.now().toString(36);

    const benches: Bench[] = [];
    for (const size of SIZES) {
      const b = await createThread(api, persistDir, size, stamp);
      const s = performance.now();
      await seed(api, b);
      console.log(`seeded ${size.toLocaleString("en-US")} messages in ${((performance.now() - s) / 1000).toFixed(1)} s`);
      benches.push(b);
    }
    for (let i = 0; i < WARMUP_TURNS; i++) for (const b of benches) await turn(api, served.mock, b, -1 - i);
    for (let i = 0; i < TURNS; i++) {
      for (let k = 0; k < benches.length; k++) {
        const b = benches[(i + k) % benches.length]!;
        const { ms, sent } = await turn(api, served.mock, b, i);
        b.times.push(ms);
        b.sent.push(sent);
      }
    }
    // What every request pays before a turn does any work (wrangler's proxy, the Worker, one Durable Object
    // call): read as context for the medians above, not part of the bar.
    const baseline: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      const started = performance.now();
      await must(api, "GET", `/v1/threads/${benches.at(-1)!.id}`, undefined, 200);
      baseline.push(performance.now() - started);
    }
    const baselineMs = round(percentile(baseline.sort((x, y) => x - y), 50), 3);

    const counts = new Map<string, number>();
    for (const b of benches) counts.set(b.id, (await must(api, "GET", `/v1/threads/${b.id}`, undefined, 200)).message_count);

    // Live WebSocket clients, on threads of their own (the files measured below are not touched).
    const liveStarted = performance.now();
    const live = await runLiveBench(worker.url, api, stamp);
    const liveSeconds = round((performance.now() - liveStarted) / 1000, 1);

    // The files are measured once workerd has stopped and let go of them.
    await worker.dispose();
    worker = undefined;

    const rows: Row[] = [];
    for (const b of benches) {
      const sorted = [...b.times].sort((x, y) => x - y);
      const bytes = await restingDbBytes(b.dbFile, scratch);
      const messages = counts.get(b.id)!;
      rows.push({
        seeded: b.size, messages, turns: b.times.length,
        sent_upstream: Math.round(b.sent.reduce((x, y) => x + y, 0) / b.sent.length),
        median_ms: round(percentile(sorted, 50), 3), p95_ms: round(percentile(sorted, 95), 3),
        db_bytes: bytes, bytes_per_message: Math.round(bytes / messages),
      });
    }
    const small = rows[0]!;
    const large = rows.at(-1)!;
    const marginalBytes = Math.round((large.db_bytes - small.db_bytes) / (large.messages - small.messages));
    const ratio = large.median_ms / small.median_ms;
    const barMet = ratio <= BAR_RATIO;

    console.log("");
    console.log(table(rows));
    console.log("");
    console.log(`stored bytes per 200-character message (10,000- vs 10-message thread): ${marginalBytes}` +
      ` (target < ${BYTES_TARGET}: ${marginalBytes < BYTES_TARGET ? "met" : "NOT met"})`);
    console.log(`request baseline (GET /v1/threads/{id}, median of ${baseline.length}): ${baselineMs.toFixed(2)} ms;` +
      ` turn time above it: ${(small.median_ms - baselineMs).toFixed(2)} ms at ${small.seeded}, ${(large.median_ms - baselineMs).toFixed(2)} ms at ${large.seeded.toLocaleString("en-US")}`);
    console.log(`bar: median at ${large.seeded.toLocaleString("en-US")} messages ${large.median_ms.toFixed(2)} ms ≤ ${BAR_RATIO}x` +
      ` median at ${small.seeded} messages ${small.median_ms.toFixed(2)} ms: ratio ${ratio.toFixed(2)}, ${barMet ? "MET" : "NOT MET"}`);
    console.log("");
    console.log(formatLive(live));
    console.log("");

    // Ours against the plain DO, each on Workers of its own (the Worker above has stopped).
    let vsPlain: VsPlainResult | { error: string };
    try {
      const r = await runVsPlainBench({ turns: TURNS });
      console.log("");
      console.log(formatVsPlain(r));
      vsPlain = r;
    } catch (err) {
      console.error(`vs plain DO: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      vsPlain = { error: String(err) };
    }
    console.log("");
    const scale = await scaleSections(null);
    console.log("");

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      turns_per_thread: TURNS,
      warmup_turns_per_thread: WARMUP_TURNS,
      message_chars: 200,
      upstream: "mock, zero latency, over HTTP on 127.0.0.1",
      rows,
      request_baseline_median_ms: baselineMs,
      stored_bytes_per_message: marginalBytes,
      stored_bytes_target: BYTES_TARGET,
      bar: { rule: `median ms at ${large.seeded} messages <= ${BAR_RATIO} x median ms at ${small.seeded} messages`, ratio: round(ratio, 3), met: barMet },
      live: { ...live, seconds: liveSeconds },
      vs_plain_do: vsPlain,
      ...scale,
      total_seconds: round((performance.now() - t0) / 1000, 1),
    };
    for (const path of await writeResults(result)) console.log(`wrote ${path}`);
    console.log(`total ${result.total_seconds} s`);
    // The comparison with the plain DO never fails the bench by its numbers, only if it could not run.
    return barMet && live.ws_bytes.met && !("error" in vsPlain) && scale.met ? 0 : 1;
  } finally {
    await worker?.dispose().catch(() => {});
    await served.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

process.exitCode = await main();
