/** Relays an upstream Server-Sent Events body to our client as it arrives, ending it cleanly if the upstream breaks. */
import { UpstreamError, type ApiError } from "../errors.ts";

const enc = new TextEncoder();

/**
 * The upstream's SSE body, chunk by chunk and unchanged: nothing is buffered
 * or re-framed. If the upstream breaks off, or sends nothing for `idleMs`
 * (the SDK's timeout only covers the wait for headers), the stream ends with
 * `data: {"error":{…}}` and no `[DONE]`: the openai SDK raises that frame as
 * an APIError instead of mistaking a cut stream for a finished one. A client
 * that goes away cancels the upstream body, so the model stops generating.
 */
export function relaySse(upstream: ReadableStream<Uint8Array>, idleMs: number): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  // The last two bytes relayed, to know whether the upstream stopped between two events or inside one.
  let last2 = [0x0a, 0x0a];

  const errorFrame = (err: ApiError) => {
    // A blank line first if the upstream stopped mid-event, so our frame is not glued to its partial one.
    const atBoundary = last2[0] === 0x0a && last2[1] === 0x0a;
    return enc.encode(`${atBoundary ? "" : "\n\n"}data: ${JSON.stringify(err.body())}\n\n`);
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Only the wait for the upstream is timed: a client slow to read is not a stalled upstream.
      watchdog = setTimeout(() => {
        stalled = true;
        // Cancelling the reader resolves the pending read() with done, which ends the loop below.
        reader.cancel().catch(() => {});
      }, idleMs);
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (stalled) {
            controller.enqueue(errorFrame(new UpstreamError("The upstream model stopped sending in the middle of its reply.", "upstream_timeout")));
            return controller.close();
          }
          if (done) return controller.close();
          if (value.byteLength === 0) continue;
          last2 = value.byteLength >= 2 ? [value[value.byteLength - 2]!, value[value.byteLength - 1]!] : [last2[1]!, value[0]!];
          return controller.enqueue(value);
        }
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        controller.enqueue(errorFrame(new UpstreamError(`The upstream model's stream broke off: ${detail}`.slice(0, 500))));
        controller.close();
      } finally {
        clearTimeout(watchdog);
      }
    },
    cancel(reason) {
      clearTimeout(watchdog);
      return reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
