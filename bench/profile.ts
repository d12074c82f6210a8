/**
 * Where a turn's CPU time goes: a V8 CPU profile of ours, taken through the
 * workerd inspector while a thread of PROFILE_SIZE messages takes
 * PROFILE_TURNS sequential non-streaming turns on the in-process dev/echo
 * model. Samples are mapped back to source files through the bundle's source
 * map and summed per file (and per function for the top entries), divided by
 * the number of turns: CPU ms per turn, not wall time.
 *
 * Usage: node bench/profile.ts [--size N] [--turns N] (also a section of npm run bench).
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { apiClient } from "../test/e2e/client.ts";
import { freePort, ROOT } from "../test/e2e/harness.ts";
import { OURS_CONFIG, seedOurs, startWranglerDevRetrying, text200, writeOursConfig } from "./inWorker.ts";

const WARMUP_TURNS = 20;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileResult {
  size: number;
  turns: number;
  cpu_ms_per_turn: number;
  /** CPU ms per turn by source file (or runtime category), largest first. */
  by_file: { file: string; ms: number }[];
  /** CPU ms per turn by function (file:function), largest first. */
  top_functions: { fn: string; ms: number }[];
}

/** A minimal Chrome DevTools Protocol client over one WebSocket. */
async function devtools(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 1;
  const waiting = new Map<number, (r: any) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  });
  return {
    async send(method: string, params: object = {}): Promise<any> {
      const id = next++;
      const answer = new Promise<any>((resolve) => waiting.set(id, resolve));
      ws.send(JSON.stringify({ id, method, params }));
      const msg = await answer;
      if (msg.error) throw new Error(`${method}: ${JSON.stringify(msg.error)}`);
      return msg.result;
    },
    close: () => ws.close(),
  };
}

/**
 * The source map of the bundle this wrangler dev runs (frames name it just
 * "index.js"): the newest .wrangler/tmp/dev-* bundle, read while wrangler runs
 * (it removes the directory when it stops).
 */
async function bundleSourceMap(): Promise<SourceMap | null> {
  const tmp = join(ROOT, ".wrangler", "tmp");
  const dirs = await Promise.all((await readdir(tmp).catch(() => [] as string[])).filter((d) => d.startsWith("dev-"))
    .map(async (d) => ({ d, at: (await stat(join(tmp, d))).mtimeMs })));
  for (const { d } of dirs.sort((a, b) => b.at - a.at)) {
    try {
      return new SourceMap(JSON.parse(await readFile(join(tmp, d, "index.js.map"), "utf8")));
    } catch {}
  }
  return null;
}

/** Short name of a source: the package for dependencies, the path under the repo for ours. */
function sourceName(source: string): string {
  const path = source.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  // Ours: the map names sources relative to the bundle's directory (../../../src/…).
  const src = path.search(/(^|\/)(src|migrations)\//);
  return src === -1 ? path : path.slice(src).replace(/^\//, "");
}

function summarise(profile: CpuProfile, turns: number, map: SourceMap | null): Omit<ProfileResult, "size" | "turns"> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + profile.timeDeltas[i]! / 1000));
  const byFile = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (ms === 0 || functionName === "(idle)") continue;
    // (program), (garbage collector) and runtime builtins (SQL exec, json, …) have no bundle position.
    let file = url ? url : functionName;
    if (url === "index.js" && map) {
      const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
      if (entry?.originalSource) file = sourceName(entry.originalSource);
    }
    total += ms;
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    const fn = `${file}:${functionName || "(anonymous)"}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
  const perTurn = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, Math.round((v / turns) * 1000) / 1000] as const);
  return {
    cpu_ms_per_turn: Math.round((total / turns) * 1000) / 1000,
    by_file: perTurn(byFile, 15).map(([file, ms]) => ({ file, ms })),
    top_functions: perTurn(byFn, 15).map(([fn, ms]) => ({ fn, ms })),
  };
}

/** Profiles `turns` turns on a thread of `size` messages. */
export async function runProfile(opts: { size: number; turns: number }): Promise<ProfileResult> {
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-profile-"));
  await writeOursConfig();
  const inspectorPort = await freePort();
  const dev = await startWranglerDevRetrying({ persistDir: join(scratch, "state"), configs: [OURS_CONFIG], inspectorPort }).catch(async (err) => {
    await rm(OURS_CONFIG, { force: true });
    throw err;
  });
  try {
    const api = apiClient(dev.url);
    const id = `profile-${opts.size}-${Date.now().toString(36)}`;
    await seedOurs(api, id, opts.size);
    const turn = async (n: number) => {
      const r = await api("POST", `/v1/threads/${id}/turns`, { input: text200(3_000_000 + n) });
      if (r.status !== 200) throw new Error(`turn: ${r.status} ${JSON.stringify(r.body)}`);
    };
    for (let i = 0; i < WARMUP_TURNS; i++) await turn(-1 - i);
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
    const cdp = await devtools(targets[0]!.webSocketDebuggerUrl);
    try {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
      await cdp.send("Profiler.start");
      for (let i = 0; i < opts.turns; i++) await turn(i);
      const { profile } = (await cdp.send("Profiler.stop")) as { profile: CpuProfile };
      return { size: opts.size, turns: opts.turns, ...summarise(profile, opts.turns, await bundleSourceMap()) };
    } finally {
      cdp.close();
    }
  } finally {
    await dev.dispose().catch(() => {});
    await rm(OURS_CONFIG, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The section as printed by npm run bench. */
export function formatProfile(r: ProfileResult): string {
  return [
    `CPU profile of ${r.turns} turns on a ${r.size.toLocaleString("en-US")}-message thread: ${r.cpu_ms_per_turn.toFixed(2)} ms CPU per turn`,
    ...r.by_file.map((f) => `  ${f.ms.toFixed(3).padStart(7)} ms  ${f.file}`),
    "  top functions:",
    ...r.top_functions.map((f) => `  ${f.ms.toFixed(3).padStart(7)} ms  ${f.fn}`),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.WRANGLER_SEND_METRICS ??= "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const arg = (name: string, d: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : d);
  console.log(formatProfile(await runProfile({ size: arg("--size", 10), turns: arg("--turns", 200) })));
}
