/**
 * The comparison half of the benchmark: a turn of ours against DESIGN.md's "plain DO".
 *
 * DESIGN.md (storage rules): measured in local workerd with zero-latency
 * models, timed inside a Worker, "a plain DO that inserts the user row, selects
 * the last 50 and inserts the reply takes 1.5–1.9 ms per turn at 10 to 10,000
 * messages. … Ours must stay within 3x of the plain DO at every length (2x is
 * the aim), wake in a few ms whatever the length". Those figures exclude the
 * dev proxy; bench/inWorker.ts measures that way, this file through the proxy.
 *
 * Two Workers run side by side under wrangler's local dev server
 * (unstable_startWorker, 127.0.0.1, each with its own persist dir):
 *  - the plain DO (bench/plain/: its own wrangler.toml, never deployed), and
 *  - ours (the project's wrangler.toml) with DEV_MODE=true, AUTH_MODE=none,
 *    a turn limit no run reaches (harness.ts) and no upstream variables, so a turn's model is
 *    the in-process dev/echo (zero latency, no network).
 * Both are reached the same way: Node's fetch, wrangler's proxy, the Worker,
 * one RPC to the thread's Durable Object.
 *
 * (a) Turns: threads of 10 and 10,000 messages of 200 characters are seeded in
 *     both (not timed), then each of the four threads takes TURNS sequential
 *     turns with a 200-character input, round-robin with the order rotating,
 *     after WARMUP_TURNS untimed rounds. A request baseline is timed the same
 *     way, interleaved: a trivial route on each Worker that reaches no Durable
 *     Object (plain: GET /ping, ours: GET /v1/models), and one Durable Object
 *     call (plain: GET /t/{id}, ours: GET /v1/threads/{id}) for context. The
 *     "net" times subtract each Worker's trivial-route median: what is left is
 *     the Worker's routing and the Durable Object's work, without the proxy.
 * (b) Wake: both Workers are stopped and started again on the same persist
 *     dirs (a fresh workerd holds no live objects). After the Workers' first
 *     requests (not a thread's) and a few GETs and turns on a separate small
 *     thread (which wakes ours' tenant directory and warms the code paths
 *     every thread shares), the first GET of the 10- and the 10,000-message thread is a
 *     cold wake of its object (constructor, migrations check, first read); a
 *     second GET is the warm reference; then each thread's first turn. Median
 *     over up to WAKE_RESTARTS restarts within WAKE_BUDGET_MS; the order of the
 *     two threads, and which Worker is measured first, alternate.
 *
 * Nothing here fails the bench: "within 3x" (and the 2x aim) is reported, not
 * enforced; the enforced 3x bar is bench/inWorker.ts's, timed without the proxy.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { apiClient, type Api } from "../test/e2e/client.ts";
import { ROOT, startWorker } from "../test/e2e/harness.ts";

process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const SIZES = [10, 10_000];
const WARMUP_TURNS = 3;
/** DESIGN.md: ours must stay within 3x of the plain DO at every length … */
const TARGET_RATIO = 3;
/** … and 2x is the aim. */
const AIM_RATIO = 2;
/** DESIGN.md's own plain-DO numbers (local workerd, timed in-Worker, no proxy): 1.5–1.9 ms from 10 to 10,000 messages. */
const DESIGN_PLAIN_MS: Record<number, number> = { 10: 1.5, 10_000: 1.9 };
const WAKE_RESTARTS = 9;
/** Restarts stop once the wake part has run this long (each restart of both Workers takes seconds). */
const WAKE_BUDGET_MS = 60_000;
/** After a restart, before any measured thread is touched: requests to the Worker alone, GETs and turns on the warm-up thread. */
const WAKE_WARMUP = { trivial: 5, get: 5, turns: 3 };
/** Pause after both Workers report ready, so what their start left running does not land on the first measurements. */
const WAKE_SETTLE_MS = 500;
/** Seeding ours: each turn takes this many input messages and adds its reply (99 x ~71 tokens fits dev/echo's window). */
const SEED_TURN_INPUTS = 99;
const PLAIN_SEED_BATCH = 1_000;
const PLAIN_CONFIG = fileURLToPath(new URL("./plain/wrangler.toml", import.meta.url));
const OURS_VARS = { DEV_MODE: "true", AUTH_MODE: "none" };

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A message of exactly 200 characters, numbered so that each one is distinct (as in run.ts). */
function text200(n: number): string {
  const head = `Message ${n}: `;
  const body = "the quick brown fox jumps over the lazy dog and keeps running through the field ";
  return (head + body.repeat(3)).slice(0, 200);
}


interface Running {
  url: string;
  dispose(): Promise<void>;
}

/**
 * Starts a Worker from a wrangler config with unstable_startWorker: local only, on
 * 127.0.0.1 and a port the OS picks, no inspector, no watching, the given storage
 * dir (kept on dispose, so a restart finds the same objects), an empty env file
 * (no .dev.vars, no .env), and only errors logged (ours warns once per process
 * that it runs without keys and on dev/echo, which is what this section wants).
 */
async function startFrom(config: string, vars: Record<string, string>, persistDir: string): Promise<Running> {
  return startWorker({ config, vars, persistDir, logLevel: "error" });
}

/** Starts ours and the plain DO side by side; if either fails, the other is stopped before the error is thrown. */
async function startBoth(oursDir: string, plainDir: string): Promise<[Running, Running]> {
  const [o, p] = await Promise.allSettled([startFrom(join(ROOT, "wrangler.toml"), OURS_VARS, oursDir), startFrom(PLAIN_CONFIG, {}, plainDir)]);
  if (o.status === "fulfilled" && p.status === "fulfilled") return [o.value, p.value];
  for (const r of [o, p]) if (r.status === "fulfilled") await r.value.dispose().catch(() => {});
  throw o.status === "rejected" ? o.reason : (p as PromiseRejectedResult).reason;
}

async function must(api: Api, method: string, path: string, body: unknown, status: number): Promise<any> {
  const r = await api(method, path, body);
  if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Wall time of one request (until its body has been read), checked for the expected status. */
async function timed(api: Api, method: string, path: string, body: unknown, status = 200): Promise<{ ms: number; body: any }> {
  const started = performance.now();
  const r = await api(method, path, body);
  const ms = performance.now() - started;
  if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return { ms, body: r.body };
}

const seedMessage = (n: number) => ({ role: n % 2 === 0 ? "user" : "assistant", content: text200(n) });

/** Ours: a thread of exactly `size` messages (not timed). Up to 100 one by one; beyond, turns of 99 inputs plus their reply. */
async function seedOurs(api: Api, id: string, size: number): Promise<number> {
  await must(api, "POST", "/v1/threads", { id }, 201);
  if (size <= 100) {
    for (let n = 0; n < size; n++) await must(api, "POST", `/v1/threads/${id}/messages`, seedMessage(n), 201);
  } else {
    if (size % (SEED_TURN_INPUTS + 1) !== 0) throw new Error(`seed size ${size} is not a multiple of ${SEED_TURN_INPUTS + 1}`);
    for (let n = 0; n < size; n += SEED_TURN_INPUTS + 1) {
      const input = Array.from({ length: SEED_TURN_INPUTS }, (_, i) => seedMessage(n + i));
      const r = await must(api, "POST", `/v1/threads/${id}/turns`, { input }, 200);
      if (r.status !== "completed") throw new Error(`seeding turn on ${id} ended ${r.status}`);
    }
  }
  const count: number = (await must(api, "GET", `/v1/threads/${id}`, undefined, 200)).message_count;
  if (count !== size) throw new Error(`seeded ${id} with ${count} messages, expected ${size}`);
  return count;
}

/** The plain DO: the same messages, in batches (not timed). */
async function seedPlain(api: Api, id: string, size: number): Promise<number> {
  let last = 0;
  for (let n = 0; n < size; n += PLAIN_SEED_BATCH) {
    const messages = Array.from({ length: Math.min(PLAIN_SEED_BATCH, size - n) }, (_, i) => seedMessage(n + i));
    last = (await must(api, "POST", `/t/${id}/seed`, { messages }, 200)).last_seq;
  }
  if (last !== size) throw new Error(`seeded plain ${id} up to seq ${last}, expected ${size}`);
  return last;
}

/** One timed turn; `context` is how many stored messages the turn read back (plain) or sent to dev/echo (ours). */
type TurnFn = (n: number) => Promise<{ ms: number; context: number }>;

function plainTurn(api: Api, id: string): TurnFn {
  return async (n) => {
    const { ms, body } = await timed(api, "POST", `/t/${id}/turn`, { input: text200(1_000_000 + n) });
    return { ms, context: body.context };
  };
}

function oursTurn(api: Api, id: string): TurnFn {
  return async (n) => {
    const { ms, body } = await timed(api, "POST", `/v1/threads/${id}/turns`, { input: text200(1_000_000 + n) });
    if (body.status !== "completed") throw new Error(`turn on ${id} ended ${body.status}: ${JSON.stringify(body)}`);
    // dev/echo says how much history it was sent: "(dev/echo: user message N of M messages in context)".
    const m = /of (\d+) messages in context\)$/.exec(String(body.output?.content ?? ""));
    if (!m) throw new Error(`turn on ${id}: not a dev/echo reply: ${JSON.stringify(body.output)}`);
    return { ms, context: Number(m[1]) };
  };
}

export interface Stats {
  median_ms: number;
  p95_ms: number;
}

const stats = (xs: number[]): Stats => ({ median_ms: round(percentile(xs, 50), 3), p95_ms: round(percentile(xs, 95), 3) });

export interface VsRow {
  seeded: number;
  turns: number;
  plain: Stats & { messages_at_start: number; context_rows: number; net_median_ms: number };
  ours: Stats & { messages_at_start: number; context_messages: number; net_median_ms: number };
  /** ours median / plain median, proxy included. */
  ratio: number;
  /** (ours median - ours trivial-route median) / (plain median - plain trivial-route median). */
  net_ratio: number;
  /** net ours - net plain: what a turn of ours costs above the plain DO's, per turn. */
  extra_ms: number;
}

export interface WakeSide {
  /** The first request to a freshly started Worker (no thread's object). */
  first_request_ms: number;
  rows: { seeded: number; cold_get_ms: number; warm_get_ms: number; wake_ms: number; first_turn_ms: number;
    samples_cold_get_ms: number[]; samples_first_turn_ms: number[] }[];
}

export interface VsPlainResult {
  what: string;
  model: string;
  turns_per_thread: number;
  warmup_turns_per_thread: number;
  message_chars: number;
  rows: VsRow[];
  baseline: {
    rule: string;
    plain: { trivial_route: string; trivial_median_ms: number; do_call_route: string; do_call_median_ms: number };
    ours: { trivial_route: string; trivial_median_ms: number; do_call_route: string; do_call_median_ms: number };
  };
  design: { plain_ms: Record<string, number>; target_ratio: number; aim_ratio: number };
  within_target: { net: boolean; raw: boolean; net_within_aim: boolean; worst_net_ratio: number; worst_raw_ratio: number };
  wake: { restarts: number; restart_seconds_median: number; plain: WakeSide; ours: WakeSide; note: string };
  seconds: number;
}

export async function runVsPlainBench(opts: { turns: number; log?: (line: string) => void }): Promise<VsPlainResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const t0 = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-vs-plain-"));
  const oursDir = join(scratch, "ours");
  const plainDir = join(scratch, "plain");
  let ours: Running | undefined;
  let plain: Running | undefined;
  try {
    [ours, plain] = await startBoth(oursDir, plainDir);
    let oursApi = apiClient(ours.url);
    let plainApi = apiClient(plain.url);
    const stamp = Date.now().toString(36);

    // --- Seeding (not timed)
    const ids = new Map<number, { ours: string; plain: string }>();
    const atStart = new Map<number, { ours: number; plain: number }>();
    for (const size of SIZES) {
      const id = { ours: `vs-${size}-${stamp}`, plain: `p${size}-${stamp}` };
      const s = performance.now();
      const counts = { plain: await seedPlain(plainApi, id.plain, size), ours: await seedOurs(oursApi, id.ours, size) };
      log(`vs plain DO: seeded ${size.toLocaleString("en-US")} messages in both in ${((performance.now() - s) / 1000).toFixed(1)} s`);
      ids.set(size, id);
      atStart.set(size, counts);
    }
    // The separate small threads the wake part warms up with after each restart.
    const warmer = { ours: `vs-warm-${stamp}`, plain: `pwarm-${stamp}` };
    await seedOurs(oursApi, warmer.ours, 10);
    await seedPlain(plainApi, warmer.plain, 10);

    // --- Turns, round-robin over the four threads
    interface Unit { size: number; side: "plain" | "ours"; run: TurnFn; times: number[]; context: number[] }
    const units: Unit[] = [];
    for (const size of SIZES) {
      const id = ids.get(size)!;
      units.push({ size, side: "plain", run: plainTurn(plainApi, id.plain), times: [], context: [] });
      units.push({ size, side: "ours", run: oursTurn(oursApi, id.ours), times: [], context: [] });
    }
    for (let i = 0; i < WARMUP_TURNS; i++) for (const u of units) await u.run(-1 - i);
    for (let i = 0; i < opts.turns; i++) {
      for (let k = 0; k < units.length; k++) {
        const u = units[(i + k) % units.length]!;
        const { ms, context } = await u.run(i);
        u.times.push(ms);
        u.context.push(context);
      }
    }

    // --- Request baselines, round-robin the same way
    const largest = ids.get(SIZES.at(-1)!)!;
    const routes = {
      plainTrivial: { api: plainApi, path: "/ping", times: [] as number[] },
      plainDo: { api: plainApi, path: `/t/${largest.plain}`, times: [] as number[] },
      oursTrivial: { api: oursApi, path: "/v1/models", times: [] as number[] },
      oursDo: { api: oursApi, path: `/v1/threads/${largest.ours}`, times: [] as number[] },
    };
    const routeList = Object.values(routes);
    for (const r of routeList) await timed(r.api, "GET", r.path, undefined);
    for (let i = 0; i < opts.turns; i++) {
      for (let k = 0; k < routeList.length; k++) {
        const r = routeList[(i + k) % routeList.length]!;
        r.times.push((await timed(r.api, "GET", r.path, undefined)).ms);
      }
    }
    const med = (xs: number[]) => round(percentile(xs, 50), 3);
    const base = {
      plain: med(routes.plainTrivial.times),
      ours: med(routes.oursTrivial.times),
    };

    const rows: VsRow[] = SIZES.map((size) => {
      const p = units.find((u) => u.size === size && u.side === "plain")!;
      const o = units.find((u) => u.size === size && u.side === "ours")!;
      const ps = stats(p.times);
      const os = stats(o.times);
      const pNet = round(ps.median_ms - base.plain, 3);
      const oNet = round(os.median_ms - base.ours, 3);
      return {
        seeded: size,
        turns: p.times.length,
        plain: { ...ps, messages_at_start: atStart.get(size)!.plain, context_rows: Math.round(p.context.reduce((x, y) => x + y, 0) / p.context.length),
          net_median_ms: pNet },
        ours: { ...os, messages_at_start: atStart.get(size)!.ours, context_messages: Math.round(o.context.reduce((x, y) => x + y, 0) / o.context.length),
          net_median_ms: oNet },
        ratio: round(os.median_ms / ps.median_ms, 3),
        // A net plain time at or below zero (noise larger than the work) gives no meaningful ratio.
        net_ratio: pNet > 0 ? round(oNet / pNet, 3) : Number.POSITIVE_INFINITY,
        extra_ms: round(oNet - pNet, 3),
      };
    });
    log(`vs plain DO: ${opts.turns} turns on each of ${units.length} threads and ${opts.turns} requests on each baseline route in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s so far`);

    // --- Wake: restart both Workers on their storage, time the first requests to the two threads
    const wakeStarted = performance.now();
    const restartSeconds: number[] = [];
    const first = { plain: [] as number[], ours: [] as number[] };
    type WakeSamples = { cold: number[]; warm: number[]; turn: number[] };
    const samples = new Map<string, WakeSamples>();
    const sample = (side: string, size: number) => {
      const key = `${side}:${size}`;
      if (!samples.has(key)) samples.set(key, { cold: [], warm: [], turn: [] });
      return samples.get(key)!;
    };
    for (let r = 0; r < WAKE_RESTARTS; r++) {
      const elapsed = performance.now() - wakeStarted;
      const perRestart = r === 0 ? 0 : elapsed / r;
      if (r > 0 && elapsed + perRestart > WAKE_BUDGET_MS) break;
      const restartAt = performance.now();
      await Promise.all([ours.dispose(), plain.dispose()]);
      ours = undefined;
      plain = undefined;
      [ours, plain] = await startBoth(oursDir, plainDir);
      restartSeconds.push((performance.now() - restartAt) / 1000);
      oursApi = apiClient(ours.url);
      plainApi = apiClient(plain.url);
      await new Promise((resolve) => setTimeout(resolve, WAKE_SETTLE_MS));
      // Both the order of the two threads and which Worker goes first alternate between restarts.
      const order = r % 2 === 0 ? SIZES : [...SIZES].reverse();
      const sides = [
        { side: "plain", api: plainApi, trivial: "/ping", get: (id: string) => `/t/${id}`, turn: plainTurn,
          id: (size: number) => ids.get(size)!.plain, warm: warmer.plain },
        { side: "ours", api: oursApi, trivial: "/v1/models", get: (id: string) => `/v1/threads/${id}`, turn: oursTurn,
          id: (size: number) => ids.get(size)!.ours, warm: warmer.ours },
      ] as const;
      for (const s of Math.floor(r / 2) % 2 === 0 ? sides : [...sides].reverse()) {
        // The Worker's first request (no thread's object), then the paths every thread shares are warmed
        // on the warm-up thread (for ours this also wakes the tenant's directory, which turns call).
        first[s.side].push((await timed(s.api, "GET", s.trivial, undefined)).ms);
        for (let i = 1; i < WAKE_WARMUP.trivial; i++) await timed(s.api, "GET", s.trivial, undefined);
        for (let i = 0; i < WAKE_WARMUP.get; i++) await timed(s.api, "GET", s.get(s.warm), undefined);
        for (let i = 0; i < WAKE_WARMUP.turns; i++) await s.turn(s.api, s.warm)(-100 - 10 * r - i);
        for (const size of order) {
          const x = sample(s.side, size);
          x.cold.push((await timed(s.api, "GET", s.get(s.id(size)), undefined)).ms);
          x.warm.push((await timed(s.api, "GET", s.get(s.id(size)), undefined)).ms);
        }
        for (const size of order) sample(s.side, size).turn.push((await s.turn(s.api, s.id(size))(-200 - r)).ms);
      }
    }
    const wakeSide = (side: "plain" | "ours"): WakeSide => ({
      first_request_ms: med(first[side]),
      rows: SIZES.map((size) => {
        const x = sample(side, size);
        return { seeded: size, cold_get_ms: med(x.cold), warm_get_ms: med(x.warm),
          // Per restart, cold minus the warm GET right after it; the median of those.
          wake_ms: med(x.cold.map((c, i) => c - x.warm[i]!)), first_turn_ms: med(x.turn),
          samples_cold_get_ms: x.cold.map((v) => round(v, 3)), samples_first_turn_ms: x.turn.map((v) => round(v, 3)) };
      }),
    });

    const worstNet = Math.max(...rows.map((r) => r.net_ratio));
    const worstRaw = Math.max(...rows.map((r) => r.ratio));
    return {
      what: "ours vs DESIGN.md's plain DO (insert user row, select last 50, insert reply), same proxy path, interleaved",
      model: "dev/echo, in process (DEV_MODE=true, no upstream configured): zero latency, no network",
      turns_per_thread: opts.turns,
      warmup_turns_per_thread: WARMUP_TURNS,
      message_chars: 200,
      rows,
      baseline: {
        rule: "net = turn median - the same Worker's trivial-route median (wrangler's proxy and Node's fetch taken out)",
        plain: { trivial_route: "GET /ping", trivial_median_ms: base.plain, do_call_route: "GET /t/{id}", do_call_median_ms: med(routes.plainDo.times) },
        ours: { trivial_route: "GET /v1/models", trivial_median_ms: base.ours, do_call_route: "GET /v1/threads/{id}", do_call_median_ms: med(routes.oursDo.times) },
      },
      design: { plain_ms: Object.fromEntries(Object.entries(DESIGN_PLAIN_MS)), target_ratio: TARGET_RATIO, aim_ratio: AIM_RATIO },
      within_target: { net: worstNet <= TARGET_RATIO, raw: worstRaw <= TARGET_RATIO, net_within_aim: worstNet <= AIM_RATIO,
        worst_net_ratio: worstNet, worst_raw_ratio: worstRaw },
      wake: {
        restarts: restartSeconds.length,
        restart_seconds_median: round(percentile(restartSeconds, 50), 1),
        plain: wakeSide("plain"),
        ours: wakeSide("ours"),
        note: "after a restart: the Worker's first requests, GETs and turns on another small thread, then per thread a cold GET " +
          "(object constructed: migrations check, first read), a warm GET, and later its first turn; wake_ms = cold - warm GET",
      },
      seconds: round((performance.now() - t0) / 1000, 1),
    };
  } finally {
    await Promise.all([ours?.dispose().catch(() => {}), plain?.dispose().catch(() => {})]);
    await rm(scratch, { recursive: true, force: true });
  }
}

function table(head: string[], cells: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const x2 = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : "n/a");

export function formatVsPlain(r: VsPlainResult): string {
  const b = r.baseline;
  const out: string[] = [];
  out.push(`ours vs the plain DO (DESIGN.md: insert the user row, select the last 50, insert the reply), model ${r.model}`);
  out.push("");
  out.push(table(
    ["messages seeded", "turns", "plain median ms", "plain p95 ms", "ours median ms", "ours p95 ms", "ours/plain", "plain net ms", "ours net ms",
      "ours net/plain net", "ours extra ms"],
    r.rows.map((x) => [x.seeded.toLocaleString("en-US"), String(x.turns), ms(x.plain.median_ms), ms(x.plain.p95_ms), ms(x.ours.median_ms),
      ms(x.ours.p95_ms), x2(x.ratio), ms(x.plain.net_median_ms), ms(x.ours.net_median_ms), x2(x.net_ratio), ms(x.extra_ms)]),
  ));
  out.push("");
  out.push(table(
    ["request baseline (median)", "plain ms", "ours ms"],
    [
      [`trivial route, no Durable Object (${b.plain.trivial_route} | ${b.ours.trivial_route})`, ms(b.plain.trivial_median_ms), ms(b.ours.trivial_median_ms)],
      [`one Durable Object call (${b.plain.do_call_route} | ${b.ours.do_call_route})`, ms(b.plain.do_call_median_ms), ms(b.ours.do_call_median_ms)],
    ],
  ));
  out.push("");
  out.push(`net = median minus the same Worker's trivial route (proxy taken out); rows read per turn: plain ` +
    r.rows.map((x) => `${x.plain.context_rows} at ${x.seeded.toLocaleString("en-US")}`).join(", ") +
    `; messages ours sent to dev/echo: ` + r.rows.map((x) => `${x.ours.context_messages} at ${x.seeded.toLocaleString("en-US")}`).join(", "));
  out.push(`DESIGN's plain DO: ` + Object.entries(r.design.plain_ms).map(([k, v]) => `${v.toFixed(1)} ms at ${Number(k).toLocaleString("en-US")}`).join(", ") +
    `; here, net: ` + r.rows.map((x) => `${ms(x.plain.net_median_ms)} ms at ${x.seeded.toLocaleString("en-US")}`).join(", "));
  const t = r.within_target;
  out.push(`DESIGN "ours within ${r.design.target_ratio}x of the plain DO at every length (${r.design.aim_ratio}x the aim)": net ${t.net ? "HOLDS" : "does NOT hold"}` +
    ` (worst ${x2(t.worst_net_ratio)}; the ${r.design.aim_ratio}x aim ${t.net_within_aim ? "met" : "not met"}); with the proxy included ${t.raw ? "holds" : "does not hold"}` +
    ` (worst ${x2(t.worst_raw_ratio)}) (reported only: the enforced bar is the in-Worker section's)`);
  out.push("");
  const w = r.wake;
  out.push(`wake after a restart of both Workers (median of ${w.restarts} restarts, ${w.restart_seconds_median.toFixed(1)} s each; Worker's first request: ` +
    `plain ${ms(w.plain.first_request_ms)} ms, ours ${ms(w.ours.first_request_ms)} ms)`);
  out.push("");
  const wakeCells: string[][] = [];
  for (const side of ["plain", "ours"] as const) {
    for (const x of w[side].rows) {
      wakeCells.push([`${side}, ${x.seeded.toLocaleString("en-US")} messages`, ms(x.cold_get_ms), ms(x.warm_get_ms), ms(x.wake_ms), ms(x.first_turn_ms)]);
    }
  }
  out.push(table(["thread", "first GET (cold) ms", "second GET ms", "wake ms (cold - second, per restart)", "first turn ms"], wakeCells));
  out.push("");
  out.push(`section took ${r.seconds} s`);
  return out.join("\n");
}
