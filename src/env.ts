import type { ThreadObject } from "./thread/ThreadObject.ts";
import type { DirectoryObject } from "./directory/DirectoryObject.ts";
import type { BotEnv } from "./bots/config.ts";

/** Bindings and settings; every variable is documented in the README's Configuration table. */
export interface Env extends BotEnv {
  THREADS: DurableObjectNamespace<ThreadObject>;
  DIRECTORY: DurableObjectNamespace<DirectoryObject>;
  /** Workers Rate Limiting binding (wrangler.toml [[ratelimits]]): turns a tenant may start per period. */
  TURN_LIMIT: RateLimit;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  CLOUDFLARE_ACCOUNT_ID?: string;
  CLOUDFLARE_API_TOKEN?: string;
  AI_GATEWAY_ID?: string;
  /** "true" only under `npm run dev` and the tests: enables the dev/echo fallback. */
  DEV_MODE?: string;
  DEFAULT_MODEL?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  UPSTREAM_MAX_RETRIES?: string;
  /** Comma-separated model IDs that GET /v1/models lists besides the known ones. */
  MODELS?: string;
  /** Secret: JSON object of API keys (or "sha256:<hex>" digests) to tenant names. */
  API_KEYS?: string;
  /** "none": serve without API keys on purpose (every request is tenant "local"). */
  AUTH_MODE?: string;
  MAX_BODY_BYTES?: string;
  MAX_CONTENT_BYTES?: string;
  MAX_INPUT_MESSAGES?: string;
}
