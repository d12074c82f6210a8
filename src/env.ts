import type { ThreadObject } from "./thread/ThreadObject.ts";
import type { DirectoryObject } from "./directory/DirectoryObject.ts";

/** Bindings and settings; every variable is documented in the README's Configuration table. */
export interface Env {
  THREADS: DurableObjectNamespace<ThreadObject>;
  DIRECTORY: DurableObjectNamespace<DirectoryObject>;
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
}
