/** Server-Sent Event streams over the event log: replay from a seq, then follow live events. */
import type { ThreadEvent } from "../protocol/types.ts";
import { sseFrame, type EventLog } from "./events.ts";

export interface FollowOptions {
  /** Replay starts after this seq. */
  after: number;
  /** Which events to send (all by default). */
  filter?: (e: ThreadEvent) => boolean;
  /** The stream ends after the first sent event for which this is true (`live`: not from the replay). */
  until: (e: ThreadEvent, live: boolean) => boolean;
  /** Checked after the replay: end the stream at once (nothing live to follow). */
  idle: () => boolean;
}

/**
 * An SSE byte stream of the log's events after `opts.after`, or null if the
 * resume buffer no longer reaches back that far. Replay and subscription
 * happen in the same synchronous block, so no event is missed or sent twice.
 * A reader that goes away stops the stream, never the turn.
 */
export function followEvents(log: EventLog, opts: FollowOptions): ReadableStream<Uint8Array> | null {
  const replay = log.replay(opts.after);
  if (replay === null) return null;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const filter = opts.filter ?? (() => true);
  let open = true;
  let unsubscribe = () => {};
  const close = () => {
    if (!open) return;
    open = false;
    unsubscribe();
    writer.close().catch(() => {});
  };
  const send = (e: ThreadEvent, live: boolean) => {
    if (!open || !filter(e)) return;
    writer.write(sseFrame(e)).catch(close);
    if (opts.until(e, live)) close();
  };
  // The end of the thread ends every stream of it, whatever it was following.
  const sendOrEnd = (e: ThreadEvent, live: boolean) => {
    if (e.type === "thread.deleted") {
      if (open) writer.write(sseFrame(e)).catch(() => {});
      close();
    } else send(e, live);
  };
  for (const e of replay) sendOrEnd(e, false);
  if (open && opts.idle()) close();
  if (open) unsubscribe = log.subscribe((e) => sendOrEnd(e, true));
  return readable;
}
