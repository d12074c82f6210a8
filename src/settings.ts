/**
 * This deployment's settings, parsed once from `env` into one typed object
 * (README, "Configuration" and "Limits"). Configuration, not user data: it does
 * not change while an isolate lives, so each env object is parsed once.
 */
import type { Env } from "./env.ts";
import { DEFAULT_LIMITS, type Limits } from "./protocol/limits.ts";
import { upstreamSettings } from "./upstream/client.ts";
import { DEFAULT_MODEL } from "./upstream/models.ts";

export interface Settings {
  /** Input limits: the documented defaults, with MAX_BODY_BYTES, MAX_CONTENT_BYTES, and MAX_INPUT_MESSAGES applied. */
  limits: Readonly<Limits>;
  upstream: {
    /** UPSTREAM_TIMEOUT_MS: how long to wait for the upstream's headers, and then between two chunks of a stream. */
    timeoutMs: number;
    /** UPSTREAM_MAX_RETRIES: the SDK's retries of a failed upstream call. */
    maxRetries: number;
  };
  /** DEFAULT_MODEL: the model of a thread or response that names none. */
  defaultModel: string;
}

/** Settings that override the limit defaults. */
const LIMIT_SETTINGS = {
  MAX_BODY_BYTES: "bodyBytes",
  MAX_CONTENT_BYTES: "contentBytes",
  MAX_INPUT_MESSAGES: "messagesPerInput",
} as const;

const HARD_CONTENT_MAX = 1_500_000; // stays below the 2 MB Durable Object row limit whatever is configured

/** Parses the settings from env (a limit that is not a positive integer keeps its default). Pure. */
export function parseSettings(env: Partial<Env>): Settings {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [name, key] of Object.entries(LIMIT_SETTINGS)) {
    const raw = env[name as keyof typeof LIMIT_SETTINGS];
    const n = typeof raw === "string" ? Number(raw) : NaN;
    if (Number.isInteger(n) && n > 0) limits[key] = n;
  }
  limits.contentBytes = Math.min(limits.contentBytes, HARD_CONTENT_MAX);
  return {
    limits: Object.freeze(limits),
    upstream: upstreamSettings(env),
    defaultModel: env.DEFAULT_MODEL ?? DEFAULT_MODEL,
  };
}

const parsed = new WeakMap<object, Settings>();

/** The settings of this env, parsed on first use. */
export function settingsOf(env: Env): Settings {
  let s = parsed.get(env);
  if (!s) parsed.set(env, (s = parseSettings(env)));
  return s;
}
