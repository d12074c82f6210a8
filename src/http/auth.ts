/** Who is asking: API keys (the API_KEYS secret) map to tenants; every /v1 request carries one. */
import type { Env } from "../env.ts";
import { ApiError, AuthenticationError } from "../errors.ts";

/** The tenant of requests when no keys are configured and that is allowed (local development, AUTH_MODE=none). */
export const LOCAL_TENANT = "local";

interface KeyTable {
  /** SHA-256 digests of the configured keys, with their tenants. */
  digests: { digest: Uint8Array; tenant: string }[];
}

const enc = new TextEncoder();
let parsed: { source: string; table: Promise<KeyTable> } | null = null;
let announced = false;

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

function fromHex(hex: string): Uint8Array | null {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return null;
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

/** Parses API_KEYS (`{"<key>" | "sha256:<hex>": "<tenant>"}`) once per isolate and value; configuration, not user data. */
function keyTable(source: string): Promise<KeyTable> {
  if (parsed?.source === source) return parsed.table;
  const table = (async () => {
    let json: unknown;
    try {
      json = JSON.parse(source);
    } catch {
      throw misconfigured("API_KEYS is not valid JSON");
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw misconfigured("API_KEYS must be a JSON object");
    const digests: KeyTable["digests"] = [];
    for (const [key, tenant] of Object.entries(json)) {
      if (typeof tenant !== "string" || tenant === "" || tenant.length > 128) throw misconfigured("every API_KEYS value must be a tenant name (1-128 characters)");
      const digest = key.startsWith("sha256:") ? fromHex(key.slice(7)) : await sha256(key);
      if (!digest) throw misconfigured("a sha256: key in API_KEYS is not 64 hex digits");
      digests.push({ digest, tenant });
    }
    return { digests };
  })();
  parsed = { source, table };
  return table;
}

function misconfigured(why: string): ApiError {
  return new ApiError(500, "server_error", `This deployment's API keys are misconfigured: ${why}.`, null, "auth_misconfigured");
}

/** The bearer token of a request, if any. */
export function bearerToken(req: Request): string | null {
  const h = req.headers.get("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : null;
}

/**
 * The tenant a request acts for. Keys are compared by their SHA-256 digests in
 * constant time, against every configured key (no early exit), so neither the
 * time nor the order of comparison tells anything about a key. No keys
 * configured: tenant "local" in local development (DEV_MODE) or with
 * AUTH_MODE=none, otherwise every request is refused.
 */
export async function authenticate(req: Request, env: Env): Promise<string> {
  if (!env.API_KEYS || env.API_KEYS.trim() === "" || env.API_KEYS.trim() === "{}") {
    if (env.AUTH_MODE === "none" || env.DEV_MODE === "true") {
      if (!announced) {
        announced = true;
        console.warn(`durable-threads: no API_KEYS configured; every request runs as tenant '${LOCAL_TENANT}'.`);
      }
      return LOCAL_TENANT;
    }
    throw new AuthenticationError("This deployment has no API keys configured. Set the API_KEYS secret (or AUTH_MODE=none on purpose).");
  }
  const table = await keyTable(env.API_KEYS);
  const token = bearerToken(req);
  if (!token) {
    throw new AuthenticationError("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
  }
  const presented = await sha256(token);
  let tenant: string | null = null;
  for (const { digest, tenant: t } of table.digests) {
    if (crypto.subtle.timingSafeEqual(digest, presented) && tenant === null) tenant = t;
  }
  if (tenant === null) throw new AuthenticationError("Incorrect API key provided.");
  return tenant;
}
