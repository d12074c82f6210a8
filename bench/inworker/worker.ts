/**
 * Bench-only: times calls from inside workerd, so that neither Node's fetch nor
 * wrangler's dev proxy is in the figures. Its service bindings reach ours
 * (OURS) and DESIGN's plain Durable Object (PLAIN) in the same local workerd;
 * each figure is the time around one awaited call (workerd's clock advances
 * across I/O, which every such call is). Never deployed.
 *
 * Routes:
 *   ANY  /ours/*, /plain/*  forwarded to that Worker (seeding, not timed)
 *   POST /time              {target, method, path, bodies: (string|null)[]} -> {ms: number[], total_ms, statuses: number[], last: unknown}
 *                           the calls run one after another, each body read to its end; workerd's clock
 *                           has millisecond steps, so total_ms / calls is the finer figure
 *   POST /directory         {tenant, shard, updates, concurrency, threads} -> {ms, updates}
 *                           that many upserts on one directory shard, `concurrency` in flight at a time
 */

interface DirectoryShard {
  upsert(e: { id: string; created_at: number; activity_ms: number; metadata: string }): Promise<void>;
}

interface Env {
  OURS: Fetcher;
  PLAIN: Fetcher;
  DIRECTORY: DurableObjectNamespace;
}

interface TimeRequest {
  target: "ours" | "plain";
  method: string;
  path: string;
  bodies: (string | null)[];
}

interface DirectoryRequest {
  tenant: string;
  shard: number;
  updates: number;
  concurrency: number;
  threads: number;
}

const MAX_CALLS = 2_000;
const MAX_UPDATES = 200_000;

async function timeCalls(env: Env, r: TimeRequest): Promise<Response> {
  if (r.bodies.length > MAX_CALLS) return Response.json({ error: `at most ${MAX_CALLS} calls` }, { status: 400 });
  const target = r.target === "ours" ? env.OURS : env.PLAIN;
  const ms: number[] = [];
  const statuses: number[] = [];
  let last: unknown = null;
  const first = performance.now();
  for (const body of r.bodies) {
    const started = performance.now();
    const res = await target.fetch(`http://bench${r.path}`, {
      method: r.method, body, headers: body === null ? {} : { "content-type": "application/json" },
    });
    const text = await res.text();
    ms.push(performance.now() - started);
    statuses.push(res.status);
    last = text;
  }
  return Response.json({ ms, total_ms: performance.now() - first, statuses, last });
}

async function directoryLoad(env: Env, r: DirectoryRequest): Promise<Response> {
  if (r.updates > MAX_UPDATES) return Response.json({ error: `at most ${MAX_UPDATES} updates` }, { status: 400 });
  // The same object name ours uses for this shard (src/directory/shards.ts).
  const stub = env.DIRECTORY.get(env.DIRECTORY.idFromName(JSON.stringify([r.tenant, r.shard]))) as unknown as DirectoryShard;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < r.updates) {
      const n = next++;
      await stub.upsert({ id: `load-${n % r.threads}`, created_at: 1, activity_ms: Date.now() + n, metadata: "{}" });
    }
  };
  await Promise.all(Array.from({ length: r.concurrency }, lane));
  return Response.json({ ms: performance.now() - started, updates: r.updates });
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    const forward = /^\/(ours|plain)(\/.*)$/.exec(url.pathname);
    if (forward) {
      const target = forward[1] === "ours" ? env.OURS : env.PLAIN;
      return target.fetch(new Request(`http://bench${forward[2]}${url.search}`, req));
    }
    if (req.method === "POST" && url.pathname === "/time") return timeCalls(env, await req.json<TimeRequest>());
    if (req.method === "POST" && url.pathname === "/directory") return directoryLoad(env, await req.json<DirectoryRequest>());
    if (url.pathname === "/v1/threads") return new Response("bench in-worker ready"); // the harness's readiness probe
    return Response.json({ error: "not found" }, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
