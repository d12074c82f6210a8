/** Maps whatever the upstream call threw to the OpenAI-shaped error our client gets (DESIGN.md, Upstream). */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import { ApiError, BadRequestError, RateLimitError, UpstreamError } from "../errors.ts";

/** Cloudflare error codes that mean "try again later" rather than "broken". */
const CAPACITY_CODES = new Set([3040, 3036, 3007]);
/** Cloudflare error codes that mean the request itself (usually the model name) is wrong. */
const BAD_REQUEST_CODES = new Set([5007, 5006, 5004, 3003]);

/** The ApiError for an upstream failure: 429 (keeps Retry-After), 400 for a bad model or request, else 502. */
export function mapUpstreamError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof APIConnectionTimeoutError) return new UpstreamError("The upstream model did not answer in time.", "upstream_timeout");
  if (err instanceof APIConnectionError) return new UpstreamError("Could not reach the upstream model.", "upstream_unreachable");
  if (err instanceof APIError) {
    const detail = upstreamMessage(err);
    const cfCode = typeof err.code === "number" ? err.code : Number(err.code);
    if (err.status === 429 || CAPACITY_CODES.has(cfCode)) {
      const retry = retryAfterSeconds(err.headers);
      return new RateLimitError(`The upstream model is rate limited or over capacity: ${detail}`, retry, "upstream_rate_limited");
    }
    if (err.status === 400 || err.status === 404 || err.status === 422 || BAD_REQUEST_CODES.has(cfCode)) {
      return new BadRequestError(`The upstream rejected the request: ${detail}`, null, "upstream_bad_request");
    }
    if (err.status === 401 || err.status === 403) {
      return new UpstreamError(`The upstream refused this deployment's credentials: ${detail}`, "upstream_auth");
    }
    return new UpstreamError(`The upstream model failed${err.status ? ` (${err.status})` : ""}: ${detail}`);
  }
  const detail = err instanceof Error ? err.message : String(err);
  // A JSON or SSE parse failure is a malformed answer; anything else thrown while
  // reading (a reset, a lost connection) is the connection dropping mid-reply.
  if (err instanceof SyntaxError) return new UpstreamError(`The upstream answer could not be read: ${detail}`, "upstream_malformed");
  return new UpstreamError(`The connection to the upstream model dropped: ${detail}`, "upstream_disconnected");
}

function upstreamMessage(err: APIError): string {
  const e = err.error as { message?: unknown } | undefined;
  const msg = typeof e?.message === "string" ? e.message : err.message;
  return msg.slice(0, 500);
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const v = headers?.get("retry-after");
  if (!v) return undefined;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
