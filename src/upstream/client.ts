/** The upstream chat-completions client: the openai SDK built from configuration. */
import OpenAI from "openai";
import type { Env } from "../env.ts";
import { ApiError } from "../errors.ts";
import { devEchoFetch } from "./devModel.ts";
import { DEV_MODEL } from "./models.ts";
import { normalizingFetch } from "./fetch.ts";

export interface Upstream {
  client: OpenAI;
  /** True when the built-in dev/echo model answers: every reply then names it as its model. */
  dev: boolean;
  /** Human-readable description for logs (never contains a secret). */
  describe: string;
}

/**
 * Builds the client in DESIGN.md's order: OPENAI_BASE_URL, then Workers AI by
 * account and token (optionally through AI Gateway), then dev/echo in local
 * development only. `baseFetch` is injectable so tests never reach a network.
 */
export function upstreamFor(env: Env, baseFetch: typeof fetch = (i, init) => fetch(i, init)): Upstream {
  const { timeoutMs: timeout, maxRetries } = upstreamSettings(env);
  const make = (baseURL: string, apiKey: string, f: typeof fetch) =>
    new OpenAI({ baseURL, apiKey, fetch: normalizingFetch(f), timeout, maxRetries });

  if (env.OPENAI_BASE_URL) {
    return {
      client: make(env.OPENAI_BASE_URL, env.OPENAI_API_KEY || "none", baseFetch),
      dev: false,
      describe: `OpenAI-compatible server at ${env.OPENAI_BASE_URL}`,
    };
  }
  if (env.CLOUDFLARE_ACCOUNT_ID && env.CLOUDFLARE_API_TOKEN) {
    const account = encodeURIComponent(env.CLOUDFLARE_ACCOUNT_ID);
    const baseURL = env.AI_GATEWAY_ID
      ? `https://gateway.ai.cloudflare.com/v1/${account}/${encodeURIComponent(env.AI_GATEWAY_ID)}/workers-ai/v1`
      : `https://api.cloudflare.com/client/v4/accounts/${account}/ai/v1`;
    return {
      client: make(baseURL, env.CLOUDFLARE_API_TOKEN, baseFetch),
      dev: false,
      describe: env.AI_GATEWAY_ID ? `Workers AI through AI Gateway ${env.AI_GATEWAY_ID}` : "Workers AI",
    };
  }
  if (env.DEV_MODE === "true") {
    announceDevModel();
    return { client: make("http://dev-echo.invalid/v1", "dev", devEchoFetch), dev: true, describe: `built-in ${DEV_MODEL} model` };
  }
  // A deployed Worker never falls back to the dev model silently.
  throw new ApiError(
    503,
    "server_error",
    "No upstream is configured: set OPENAI_BASE_URL, or CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN.",
    null,
    "upstream_not_configured",
  );
}

/** UPSTREAM_TIMEOUT_MS and UPSTREAM_MAX_RETRIES, parsed (part of Settings: settings.ts). */
export function upstreamSettings(env: Pick<Env, "UPSTREAM_TIMEOUT_MS" | "UPSTREAM_MAX_RETRIES">): { timeoutMs: number; maxRetries: number } {
  return { timeoutMs: nonNegativeInt(env.UPSTREAM_TIMEOUT_MS, 60_000), maxRetries: nonNegativeInt(env.UPSTREAM_MAX_RETRIES, 2) };
}

function nonNegativeInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isInteger(n) && n >= 0 ? n : fallback;
}

let announced = false;

/** Says once per isolate, in the log, that replies come from the built-in dev model. */
function announceDevModel(): void {
  if (announced) return;
  announced = true;
  console.warn(`durable-threads: no upstream configured; replies come from the built-in ${DEV_MODEL} model (local development only).`);
}
