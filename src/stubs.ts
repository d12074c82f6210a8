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
  /** The object is overloaded: retrying would add to its load, so it is never retried. */
  overloaded?: boolean;
  /** The error was thrown by the object's own code: a retry would throw it again. */
  remote?: boolean;
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
 * then, unless the object is overloaded or its own code threw, the call is
 * tried again on a new stub after an exponential backoff, at most ATTEMPTS
 * times in all.
 */
export async function callIdempotent<S, T>(stubOf: () => S, call: (stub: S) => Promise<T>, dropped: (stub: S) => void = () => {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const stub = stubOf();
    try {
      return await call(stub);
    } catch (err) {
      dropped(stub);
      if (attempt >= ATTEMPTS || isOverloaded(err) || (err as ObjectError).remote === true) throw err;
      const wait = BACKOFF_MS * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
    }
  }
}
