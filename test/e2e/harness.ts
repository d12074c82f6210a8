/**
 * End-to-end harness: the mock upstream served over real HTTP, and the Worker
 * run by wrangler's own dev server (workerd). Every server listens on 127.0.0.1
 * with an ephemeral port, so runs never collide. Used by test/e2e/*.test.ts
 * (vitest, Node) and bench/run.ts (Node's type stripping), so this file and
 * client.ts use erasable TypeScript only.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MockUpstream } from "../mock/upstream.ts";
import { within } from "./client.ts";

/** The project root, where wrangler.toml lives. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Wrangler reads these when it starts: no usage metrics, no request.cf lookup
// (both would reach the internet, which tests and benchmarks must not).
process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for servers that must be told a port up front). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenOnLoopback(probe);
  await new Promise((r) => probe.close(r));
  return port;
}

// ---------------------------------------------------------------------------
// The mock upstream over HTTP

export interface ServedMock {
  mock: MockUpstream;
  /** `http://127.0.0.1:PORT/v1`: what OPENAI_BASE_URL should be. */
  baseURL: string;
  close(): Promise<void>;
}

/** Serves a MockUpstream on 127.0.0.1 with an ephemeral port. */
export async function serveMockUpstream(mock: MockUpstream = new MockUpstream()): Promise<ServedMock> {
  let origin = "";
  const server = createServer((req, res) => {
    void serveOne(mock.handle, origin, req, res);
  });
  const port = await listenOnLoopback(server);
  origin = `http://127.0.0.1:${port}`;
  return {
    mock,
    baseURL: `${origin}/v1`,
    async close() {
      // A "hang" fault keeps a response open forever: drop every connection, then stop.
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Serves a web-standard handler (e.g. a mock chat platform) on 127.0.0.1 with an ephemeral port; `origin` has no trailing slash. */
export async function serveHandler(handle: (req: Request) => Promise<Response>): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = "";
  const server = createServer((req, res) => void serveOne(handle, origin, req, res));
  origin = `http://127.0.0.1:${await listenOnLoopback(server)}`;
  return {
    origin,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Adapts one Node request to a web Request, and the handler's web Response back, body chunk by chunk. */
async function serveOne(handle: (req: Request) => Promise<Response>, origin: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  let response: Response;
  try {
    response = await handle(await toWebRequest(origin, req, gone.signal));
  } catch (err) {
    res.writeHead(500, { "content-type": "text/plain" }).end(`mock upstream failed: ${String(err)}`);
    return;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  res.writeHead(response.status, headers);
  res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // The client went away (or the server is closing): stop the producer, e.g. a "hang" fault.
  gone.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Each chunk is written as it comes (an SSE frame reaches the Worker when the mock sends it);
      // a slow reader only delays us until the socket drains or closes.
      if (!res.write(value)) await Promise.race([once(res, "drain"), once(res, "close")]);
    }
    res.end();
  } catch {
    // A stream the mock errored (a "cut" fault) is a connection reset, as a dropped upstream would be.
    res.destroy();
  }
}

async function toWebRequest(origin: string, req: IncomingMessage, signal: AbortSignal): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  }
  return new Request(new URL(req.url ?? "/", origin), { method, headers, body, signal });
}

// ---------------------------------------------------------------------------
// The Worker

export interface WorkerOptions {
  /** Plain-text vars the Worker sees, and nothing else: .dev.vars and .env are not read. */
  vars?: Record<string, string>;
  /** Directory for Durable Object storage (kept after dispose); by default a temp dir removed on dispose. */
  persistDir?: string;
  /** The Wrangler config to run (default: the project's wrangler.toml). */
  config?: string;
  /** Wrangler's log level (default: warn). */
  logLevel?: "warn" | "error";
  /**
   * Turns per tenant per minute on the TURN_LIMIT rate-limit binding, replacing
   * wrangler.toml's (local wrangler enforces it too). Default: high enough for
   * every test and the load bench, which run many turns as one tenant.
   */
  turnLimit?: number;
}

/** Turns a minute the e2e tests and the bench may run as one tenant. */
const UNLIMITED_TURNS = 1_000_000;

export interface RunningWorker {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** Where the Durable Objects' SQLite files are, under v3/do/. */
  persistDir: string;
  dispose(): Promise<void>;
}

/**
 * The vars that point the Worker at a served mock, with no SDK retries so a fault
 * is seen once, no API keys (AUTH_MODE=none: every request is tenant "local"),
 * (the turn rate limit is raised by startWorker, see WorkerOptions.turnLimit).
 */
export function mockUpstreamVars(served: ServedMock): Record<string, string> {
  return { OPENAI_BASE_URL: served.baseURL, OPENAI_API_KEY: "e2e-key", UPSTREAM_MAX_RETRIES: "0", AUTH_MODE: "none" };
}

/**
 * Starts the Worker in workerd with wrangler's programmatic dev server
 * (`unstable_startWorker`): wrangler.toml as configured, local only, on
 * 127.0.0.1 and a port the OS picks, no inspector, no file watching (an edit
 * elsewhere in the tree must not reload the Worker mid-test).
 */
export async function startWorker(opts: WorkerOptions = {}): Promise<RunningWorker> {
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-e2e-"));
  const persistDir = opts.persistDir ?? join(scratch, "state");
  // An explicit, empty env file: wrangler then reads neither .dev.vars nor .env,
  // so a developer's local secrets cannot change what the Worker is configured with.
  const emptyEnv = join(scratch, "empty.env");
  await writeFile(emptyEnv, "");
  const bindings = {
    ...Object.fromEntries(Object.entries(opts.vars ?? {}).map(([name, value]) => [name, { type: "plain_text" as const, value }])),
    // (A config without this binding, such as the bench's plain DO, just gets one it does not use.)
    TURN_LIMIT: { type: "ratelimit" as const, namespace_id: "1001", simple: { limit: opts.turnLimit ?? UNLIMITED_TURNS, period: 60 as const } },
  };
  const { unstable_startWorker } = await import("wrangler");
  const worker = await unstable_startWorker({
    config: opts.config ?? join(ROOT, "wrangler.toml"),
    envFiles: [emptyEnv],
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      remote: false,
      watch: false,
      persist: persistDir,
      logLevel: opts.logLevel ?? "warn",
    },
  });
  let url: URL;
  try {
    await within(120_000, "the Worker starting", worker.ready);
    url = await worker.url;
  } catch (err) {
    await worker.dispose().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  return {
    url: url.origin,
    persistDir,
    async dispose() {
      await within(30_000, "the Worker stopping", worker.dispose());
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `npm run dev`, exactly what a newcomer types, adding only a free port,
 * storage in a temp dir and an empty env file (so a local .dev.vars does not
 * count), and waits until it answers HTTP.
 */
export async function startDevScript(): Promise<RunningWorker & { output(): string }> {
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-dev-"));
  const persistDir = join(scratch, "state");
  const emptyEnv = join(scratch, "empty.env");
  await writeFile(emptyEnv, "");
  const port = await freePort();
  const args = ["run", "dev", "--", "--port", String(port), "--persist-to", persistDir, "--env-file", emptyEnv,
    "--show-interactive-dev-session=false", "--log-level", "warn"];
  const server = await spawnDevServer({ what: "npm run dev", command: "npm", args, port, env: process.env,
    cleanup: () => rm(scratch, { recursive: true, force: true }) });
  return { url: server.url, persistDir, dispose: server.stop, output: server.output };
}

export interface WranglerDevOptions {
  /** `--persist-to`: where Durable Object storage lives. Owned by the caller: never removed here, so a restart can reuse it. */
  persistDir: string;
  /** Plain-text vars, each passed as `--var NAME:VALUE` (.dev.vars and .env are not read). */
  vars?: Record<string, string>;
  /** The port to listen on (127.0.0.1); a free one by default. */
  port?: number;
  /**
   * Wrangler configs to run together in one workerd (`-c` each; the first is the
   * Worker that listens, the others are reachable through its service bindings).
   * Default: the project's wrangler.toml alone.
   */
  configs?: string[];
  /** The devtools inspector port (`--inspector-port`), e.g. for a CPU profile; wrangler picks one by default. */
  inspectorPort?: number;
}

export interface WranglerDev extends RunningWorker {
  /** The process group of npx, wrangler, esbuild and workerd (the pid of npx). */
  pgid: number;
  /** Everything the processes printed so far. */
  output(): string;
  /**
   * A crash: SIGKILL to the whole process group, with no chance to flush or close
   * anything; resolves once no process of the group is left running. Storage is kept.
   */
  kill(): Promise<void>;
}

/**
 * Runs the real `wrangler dev` CLI (`npx wrangler dev`) in its own process group on
 * 127.0.0.1, local only, with the given vars and `--persist-to`, and waits until it
 * answers HTTP. Unlike startWorker, the caller can kill it like a crashing machine
 * (kill) and start it again on the same storage. dispose stops it gracefully.
 */
export async function startWranglerDev(opts: WranglerDevOptions): Promise<WranglerDev> {
  const scratch = await mkdtemp(join(tmpdir(), "durable-threads-wrangler-"));
  // An explicit, empty env file, as in startDevScript: a local .dev.vars must not count.
  const emptyEnv = join(scratch, "empty.env");
  await writeFile(emptyEnv, "");
  const port = opts.port ?? (await freePort());
  const vars = Object.entries(opts.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const configs = (opts.configs ?? []).flatMap((c) => ["-c", c]);
  const inspector = opts.inspectorPort === undefined ? [] : ["--inspector-port", String(opts.inspectorPort), "--inspector-ip", "127.0.0.1"];
  const args = ["wrangler", "dev", ...configs, ...inspector, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", opts.persistDir,
    "--env-file", emptyEnv, ...vars, "--show-interactive-dev-session=false", "--log-level", "warn"];
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
  const server = await spawnDevServer({ what: "wrangler dev", command: "npx", args, port, env,
    cleanup: () => rm(scratch, { recursive: true, force: true }) });
  return { url: server.url, persistDir: opts.persistDir, pgid: server.pgid, output: server.output, dispose: server.stop, kill: server.kill };
}

interface SpawnedDevServer {
  url: string;
  pgid: number;
  output(): string;
  /** SIGTERM to the group (SIGKILL if it has not exited within 10 s), then cleanup. */
  stop(): Promise<void>;
  /** SIGKILL to the group, wait until none of it runs, then cleanup. */
  kill(): Promise<void>;
}

/**
 * Spawns a dev server command in its own process group, so that the whole tree
 * (npm/npx, wrangler, esbuild, workerd) is stopped by one id, and waits (at most
 * 90 s) until it answers HTTP on 127.0.0.1:port.
 */
async function spawnDevServer(o: { what: string; command: string; args: string[]; port: number; env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void> }): Promise<SpawnedDevServer> {
  const { what } = o;
  // Its own process group, so dispose can stop npm, wrangler and workerd together by this one id.
  const child = spawn(o.command, o.args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: o.env });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  const exited = once(child, "exit");
  // If this process ends without dispose (a crashed or interrupted run), do not leave a dev server behind.
  const killOnExit = () => {
    try {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  process.once("exit", killOnExit);
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await o.cleanup();
  };
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
        await within(10_000, `${what} exiting`, exited).catch(() => process.kill(-child.pid!, "SIGKILL"));
      } catch {
        // Already gone.
      }
    }
    await cleanup();
  };
  const kill = async () => {
    process.off("exit", killOnExit);
    const pgid = child.pid;
    if (pgid !== undefined) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // Already gone.
      }
      const deadline = Date.now() + 10_000;
      while (groupRunning(pgid)) {
        if (Date.now() > deadline) throw new Error(`${what} (process group ${pgid}) still running 10 s after SIGKILL`);
        await sleep(50);
      }
    }
    await cleanup();
  };
  const url = `http://127.0.0.1:${o.port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/v1/threads?limit=1`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${what} did not answer on ${url} within 90 s:\n${output}`);
      }
      await sleep(250);
    }
  }
  return { url, pgid: child.pid!, output: () => output, stop, kill };
}

/**
 * Whether any process of the group is still running. A killed group's grandchildren
 * are re-parented, and where nothing reaps them (PID 1 in some containers) they stay
 * as zombies, which signal 0 still reaches: on Linux /proc tells them apart.
 */
function groupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so parse after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}
