/** OpenAI-shaped API errors: every failure a client sees is one of these. */
import { isOverloaded } from "./stubs.ts";

/** Retry-After (seconds) when a Durable Object answered that it is overloaded. */
export const OVERLOADED_RETRY_AFTER_S = 2;

export interface ErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** An error with its HTTP status and OpenAI error body; converted to a response in one place. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The `{"error": …}` body OpenAI clients parse. */
  body(): { error: ErrorBody } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** A plain object that survives Durable Object RPC (class identity does not). */
  toWire(): WireError {
    return { status: this.status, headers: this.headers, ...this.body().error };
  }

  static fromWire(w: WireError): ApiError {
    return new ApiError(w.status, w.type, w.message, w.param, w.code, w.headers);
  }

  toResponse(): Response {
    return Response.json(this.body(), { status: this.status, headers: this.headers });
  }
}

export interface WireError extends ErrorBody {
  status: number;
  headers: Record<string, string>;
}

export class BadRequestError extends ApiError {
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(400, "invalid_request_error", message, param, code);
  }
}

export class AuthenticationError extends ApiError {
  constructor(message: string) {
    super(401, "authentication_error", message, null, "invalid_api_key");
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(404, "not_found_error", message, param, "not_found");
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, code: string | null = "conflict") {
    super(409, "conflict_error", message, null, code);
  }
}

export class TooLargeError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(413, "request_too_large", message, param, "request_too_large");
  }
}

export class RateLimitError extends ApiError {
  constructor(message: string, retryAfterSeconds?: number, code: string | null = "rate_limit_exceeded") {
    super(429, "rate_limit_error", message, null, code,
      retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) });
  }
}

export class UpstreamError extends ApiError {
  constructor(message: string, code: string | null = "upstream_error") {
    super(502, "upstream_error", message, null, code);
  }
}

/** Result of a Durable Object RPC call: the value, or an ApiError in wire form. */
export type Outcome<T> = { ok: T } | { error: WireError };

/** Runs fn and turns an ApiError into a wire error, so it crosses RPC intact. */
export async function outcome<T>(fn: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await fn() };
  } catch (err) {
    if (err instanceof ApiError) return { error: err.toWire() };
    throw err;
  }
}

/** The value of an RPC outcome, or the ApiError it carried, thrown again. */
export function unwrap<T>(o: Outcome<T>): T {
  if ("error" in o) throw ApiError.fromWire(o.error);
  return o.ok;
}

/** The response for anything thrown by a handler: ApiErrors as they are, anything else a 500 without internals. */
export function errorResponse(err: unknown): Response {
  if (err instanceof ApiError) return err.toResponse();
  if (isOverloaded(err)) {
    // Cloudflare: an overloaded Durable Object must not be retried at once; the client is told to come back later.
    return new ApiError(503, "server_error", "This thread's Durable Object is overloaded; retry after a pause.", null, "object_overloaded",
      { "Retry-After": String(OVERLOADED_RETRY_AFTER_S) }).toResponse();
  }
  console.error("unhandled error", err);
  return new ApiError(500, "server_error", "The server had an error while processing your request.").toResponse();
}
