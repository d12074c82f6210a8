/**
 * Load held, nothing lost: THREADS threads x TURNS turns, CONCURRENCY threads
 * at a time (each thread's turns one after another, as one user's would be),
 * against the Worker under wrangler's local dev server and the mock upstream
 * (zero latency, over HTTP on 127.0.0.1). Reports throughput, p50/p99 turn
 * latency and errors; then reads every thread back, page by page, and counts
 * lost messages: every acknowledged input must be stored once, in order, each
 * followed by its completed reply quoting it (the mock echoes the input).
 * Bounded: a fixed number of turns, each request with a timeout.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockUpstream } from "../test/mock/upstream.ts";
import { apiClient, type Api } from "../test/e2e/client.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker } from "../test/e2e/harness.ts";

export interface LoadOptions {
  threads: number;
  turns: number;
  concurrency: number;
}

export interface LoadResult extends LoadOptions {
  total_turns: number;
  seconds: number;
  turns_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  error_samples: string[];
  lost_messages: number;
  checked_messages: number;
  met: boolean;
}

const REQUEST_TIMEOUT_MS = 60_000;
const PAGE = 100;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Runs `lanes` workers over the items, each taking the next one when it is done with the last. */
async function inLanes<T>(items: T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** Every message of a thread, oldest first, page by page. */
async function allMessages(api: Api, id: string): Promise<any[]> {
  const out: any[] = [];
  let after: string | null = null;
  for (let i = 0; i < 1_000; i++) {
    const r: { status: number; body: any } = await api("GET", `/v1/threads/${id}/messages?limit=${PAGE}&order=asc${after ? `&after=${after}` : ""}`);
    if (r.status !== 200) throw new Error(`reading ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.data);
    if (!r.body.has_more) return out;
    after = r.body.last_id;
  }
  throw new Error(`reading ${id}: listing did not end`);
}

/** What a thread should hold, checked against what it does: the count of acknowledged messages missing or wrong. */
function lostIn(stored: any[], acknowledged: string[]): number {
  let lost = 0;
  for (let i = 0; i < acknowledged.length; i++) {
    const user = stored[2 * i];
    const reply = stored[2 * i + 1];
    if (user?.role !== "user" || user.content !== acknowledged[i]) lost++;
    if (reply?.role !== "assistant" || reply.status !== "completed" || !String(reply.content).endsWith(`: ${acknowledged[i]}`)) lost++;
  }
  // Anything beyond what was acknowledged would be a duplicate.
  return lost + Math.max(0, stored.length - 2 * acknowledged.length);
}

/** Runs the load test on a Worker of its own and stops it. */
export async function runLoadBench(opts: LoadOptions): Promise<LoadResult> {
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-load-"));
  const served = await serveMockUpstream(new MockUpstream({ chunkDelayMs: 0 }));
  const worker = await startWorker({ vars: mockUpstreamVars(served), persistDir: join(scratch, "state"), logLevel: "error" });
  try {
    const api = apiClient(worker.url);
    const stamp = Date.now().toString(36);
    const ids = Array.from({ length: opts.threads }, (_, i) => `load-${stamp}-${i}`);
    const acknowledged = new Map<string, string[]>(ids.map((id) => [id, []]));
    const latencies: number[] = [];
    const errors: string[] = [];
    const call = async (method: string, path: string, body: unknown) => {
      try {
        return await Promise.race([api(method, path, body), new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`timed out after ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS).unref())]);
      } catch (err) {
        return { status: 0, headers: new Headers(), body: String(err) };
      }
    };
    await inLanes(ids, opts.concurrency, async (id) => {
      const r = await call("POST", "/v1/threads", { id });
      if (r.status !== 201) errors.push(`create ${id}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    });
    const started = performance.now();
    await inLanes(ids, opts.concurrency, async (id) => {
      for (let t = 0; t < opts.turns; t++) {
        const input = `load ${id} turn ${t}`;
        const sent = performance.now();
        const r = await call("POST", `/v1/threads/${id}/turns`, { input });
        latencies.push(performance.now() - sent);
        if (r.status === 200 && r.body.status === "completed") acknowledged.get(id)!.push(input);
        else errors.push(`turn ${id}#${t}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    let lost = 0;
    let checked = 0;
    await inLanes(ids, opts.concurrency, async (id) => {
      const stored = await allMessages(api, id);
      checked += stored.length;
      lost += lostIn(stored, acknowledged.get(id)!);
    });
    const total = opts.threads * opts.turns;
    return {
      ...opts, total_turns: total, seconds: Math.round(seconds * 10) / 10, turns_per_s: Math.round(total / seconds),
      p50_ms: Math.round(percentile(latencies, 50) * 10) / 10, p99_ms: Math.round(percentile(latencies, 99) * 10) / 10,
      errors: errors.length, error_samples: errors.slice(0, 5), lost_messages: lost, checked_messages: checked,
      met: errors.length === 0 && lost === 0,
    };
  } finally {
    await worker.dispose().catch(() => {});
    await served.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The section as printed by npm run bench. */
export function formatLoad(r: LoadResult): string {
  return [
    `Load: ${r.threads} threads x ${r.turns} turns (${r.total_turns.toLocaleString("en-US")} turns), ${r.concurrency} threads at a time, wrangler dev + mock upstream`,
    `  ${r.turns_per_s} turns/s over ${r.seconds} s; turn latency p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`,
    `  errors: ${r.errors}; lost messages: ${r.lost_messages} (read back ${r.checked_messages.toLocaleString("en-US")} messages) — ${r.met ? "MET" : "NOT MET"}`,
    ...r.error_samples.map((e) => `  error: ${e}`),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.WRANGLER_SEND_METRICS ??= "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const arg = (name: string, d: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : d);
  const r = await runLoadBench({ threads: arg("--threads", 200), turns: arg("--turns", 20), concurrency: arg("--concurrency", 50) });
  console.log(formatLoad(r));
  process.exitCode = r.met ? 0 : 1;
}
