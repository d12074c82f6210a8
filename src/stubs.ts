/**
 * Calling Durable Objects safely: a stub whose call threw is replaced, an
 * idempotent call is retried with backoff (an overloaded object once, after a
 * long pause), and what still fails, or is not idempotent, reaches the client
 * (an overloaded object as 503 with Retry-After, see errors.ts).
 */

/** Attempts of an idempotent call, the first included. */
const ATTEMPTS = 3;
/** Backoff before the second attempt; doubled for each later one, with up to as much again of jitter. */
const BACKOFF_MS = 20;
/**
 * Attempts of an idempotent call whose object answered "overloaded": one
 * retry, after OVERLOADED_BACKOFF_MS plus up to as much again of jitter.
 * Cloudflare warns that retrying an overloaded object adds to its load; one
 * late, spread-out retry of a read gives a brief burst time to drain without
 * piling on, and a second "overloaded" goes to the client as 503.
 */
const OVERLOADED_ATTEMPTS = 2;
const OVERLOADED_BACKOFF_MS = 250;

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
  /** The object is overloaded: an idempotent call is retried once, late (OVERLOADED_ATTEMPTS); anything else is not. */
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
 * further call on it throws; Cloudflare's guidance is to create a new stub).
 * Then the call is tried again on a new stub:
 * - after an error the runtime marked `retryable` (or a reset object), with
 *   exponential backoff, at most ATTEMPTS times in all;
 * - after `overloaded`, once, after OVERLOADED_BACKOFF_MS and jitter (at most
 *   OVERLOADED_ATTEMPTS in all): a retry at once would only add to the load.
 * Any other error (one the object's own code threw, say) would only be thrown
 * again, and is not retried.
 */
export async function callIdempotent<S, T>(stubOf: () => S, call: (stub: S) => Promise<T>, dropped: (stub: S) => void = () => {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const stub = stubOf();
    try {
      return await call(stub);
    } catch (err) {
      dropped(stub);
      const overloaded = isOverloaded(err);
      if (attempt >= (overloaded ? OVERLOADED_ATTEMPTS : ATTEMPTS) || !(overloaded || isRetryable(err))) throw err;
      const wait = (overloaded ? OVERLOADED_BACKOFF_MS : BACKOFF_MS) * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
    }
  }
}
