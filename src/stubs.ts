/**
 * Calling Durable Objects safely: a stub whose call threw is replaced, an
 * idempotent call is retried with backoff, and an overloaded object is never
 * retried (the Worker answers 503 with Retry-After, see errors.ts).
 */

/** Attempts of an idempotent call, the first included. */
const ATTEMPTS = 3;
/** Backoff before the second attempt; doubled for each later one, with up to as much again of jitter. */
const BACKOFF_MS = 20;

/** Error properties the Durable Objects runtime sets (Cloudflare docs, "Durable Objects: error handling"). */
interface ObjectError {
  /** The runtime says the call may be retried (a transient infrastructure error). */
  retryable?: boolean;
  /**
   * The object was reset (code update, crash, abort) and this stub is broken
   * for good: Cloudflare's stub docs say to recreate the stub. workerd marks
   * such errors with this property but not always with `retryable`.
   */
  durableObjectReset?: boolean;
  /** The object is overloaded: retrying would add to its load, so it is never retried. */
  overloaded?: boolean;
}

/** Whether Cloudflare's guidance allows retrying an idempotent call after err: `retryable` (or a reset object) and not `overloaded`. */
export function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null || isOverloaded(err)) return false;
  const e = err as ObjectError;
  return e.retryable === true || e.durableObjectReset === true;
}

/** Whether the runtime refused a call because the object is overloaded. */
export function isOverloaded(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as ObjectError).overloaded === true;
}

/**
 * Runs an idempotent call (one that may be applied twice with the same
 * effect) with a stub from `stubOf`. If the call throws, `dropped(stub)` is
 * told, because after an exception a stub may stay broken for good (every
 * further call on it throws; Cloudflare's guidance is to create a new stub);
 * then, only if the runtime marked the error `retryable` (or the object was
 * reset) and not `overloaded` (Cloudflare's guidance; an error the object's
 * own code threw, or any other, would only be thrown again), the call is tried again on a new
 * stub after an exponential backoff, at most ATTEMPTS times in all.
 */
export async function callIdempotent<S, T>(stubOf: () => S, call: (stub: S) => Promise<T>, dropped: (stub: S) => void = () => {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const stub = stubOf();
    try {
      return await call(stub);
    } catch (err) {
      dropped(stub);
      if (attempt >= ATTEMPTS || !isRetryable(err)) throw err;
      const wait = BACKOFF_MS * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
    }
  }
}
