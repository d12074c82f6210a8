/** What the bot suites share: the Worker's bot settings, fresh chat IDs, and bounded waiting. */
import { apiClient, within, type Api } from "../client.ts";
import { mockUpstreamVars, serveHandler, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "../harness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The mock upstream's vars plus the bot settings every suite uses: bot threads
 * belong to tenant "bots", whose API key is "sk-bots" ("sk-other" is another
 * tenant), with the given instructions and session idle time.
 */
export function botVars(upstreamVars: Record<string, string>, instructions: string, idleSeconds: string): Record<string, string> {
  const { AUTH_MODE: _, ...vars } = upstreamVars;
  return {
    ...vars,
    API_KEYS: JSON.stringify({ "sk-bots": "bots", "sk-other": "other" }),
    BOT_TENANT: "bots",
    BOT_INSTRUCTIONS: instructions,
    BOT_SESSION_IDLE_SECONDS: idleSeconds,
  };
}

/** A Worker with one bot configured, its mock upstream, and the mock platform it talks to. */
export interface BotWorld {
  upstream: ServedMock;
  /** Where the mock platform listens: `http://127.0.0.1:PORT`. */
  platformOrigin: string;
  worker: RunningWorker;
  /** A client with the key of BOT_TENANT. */
  api: Api;
  dispose(): Promise<void>;
}

/**
 * Serves the mock platform and the mock upstream on 127.0.0.1 and starts the
 * Worker with botVars plus the platform's settings (given the platform's origin).
 */
export async function startBotWorld(platform: (req: Request) => Promise<Response>, platformVars: (origin: string) => Record<string, string>,
  opts: { instructions: string; idleSeconds: string; turnLimit?: number }): Promise<BotWorld> {
  const upstream = await serveMockUpstream();
  const served = await serveHandler(platform);
  const worker = await startWorker({ vars: { ...botVars(mockUpstreamVars(upstream), opts.instructions, opts.idleSeconds), ...platformVars(served.origin) }, turnLimit: opts.turnLimit })
    .catch(async (err: unknown) => {
      await Promise.all([served.close(), upstream.close()]);
      throw err;
    });
  return {
    upstream, platformOrigin: served.origin, worker,
    api: apiClient(worker.url, { authorization: "Bearer sk-bots" }),
    async dispose() {
      await worker.dispose();
      await served.close();
      await upstream.close();
    },
  };
}

/** A counter of chat IDs, distinct per suite run, so tests never share a chat. */
export function chatIds(start: number): () => number {
  let next = start + (Date.now() % 100_000) * 100;
  return () => next++;
}

/** Polls `check` until it returns something other than null (or false), at most `ms`. */
export async function eventually<T>(what: string, check: () => T | null | false | Promise<T | null | false>, ms = 20_000, every = 100): Promise<T> {
  return within(ms, what, (async () => {
    for (;;) {
      const value = await check();
      if (value !== null && value !== false) return value;
      await sleep(every);
    }
  })());
}

/** Waits a while, for asserting that something does not happen. */
export async function quietFor(ms: number): Promise<void> {
  await sleep(ms);
}
