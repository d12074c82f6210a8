/**
 * The one follower of the event log: replay from a seq, then follow live
 * events, each written to a byte stream in a pluggable framing (native SSE,
 * Responses streaming). Every stream of a thread ends when the thread does.
 */
import type { ThreadEvent } from "../protocol/types.ts";
import { sseFrame, type EventLog } from "./events.ts";

/** A byte stream a producer writes to; writes after the reader went away (or after close) are dropped. */
export interface ByteStream {
  readable: ReadableStream<Uint8Array>;
  write(bytes: Uint8Array): void;
  close(): void;
  readonly open: boolean;
}

/** A fresh byte stream: the plumbing every streamed answer (followed, replayed or ephemeral) shares. */
export function byteStream(onClose: () => void = () => {}): ByteStream {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    onClose();
    writer.close().catch(() => {});
  };
  return {
    readable,
    write: (bytes) => {
      if (open) writer.write(bytes).catch(close);
    },
    close,
    get open() {
      return open;
    },
  };
}

/** How events become bytes on one kind of stream. */
export interface Framing {
  /** Written before anything else. */
  start?(): void;
  /** One event the filter let through, replayed or live. */
  event(e: ThreadEvent): void;
  /** The thread was deleted: the last thing written before the stream ends. */
  deleted?(e: ThreadEvent): void;
}

/** Native SSE: each event as `id`/`event`/`data` lines, thread.deleted included. */
export function sseFraming(write: (bytes: Uint8Array) => void): Framing {
  return { event: (e) => write(sseFrame(e)), deleted: (e) => write(sseFrame(e)) };
}

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
 * A byte stream of the log's events after `opts.after`, framed by `framing`,
 * or null if the resume buffer no longer reaches back that far. Replay and
 * subscription happen in the same synchronous block, so no event is missed or
 * sent twice. A reader that goes away stops the stream, never the turn.
 */
export function followEvents(log: EventLog, opts: FollowOptions,
  framing: (write: (bytes: Uint8Array) => void) => Framing = sseFraming): ReadableStream<Uint8Array> | null {
  const replay = log.replay(opts.after);
  if (replay === null) return null;
  let unsubscribe = () => {};
  const out = byteStream(() => unsubscribe());
  const frame = framing(out.write);
  const filter = opts.filter ?? (() => true);
  const send = (e: ThreadEvent, live: boolean) => {
    if (!out.open) return;
    // The end of the thread ends every stream of it, whatever it was following.
    if (e.type === "thread.deleted") {
      frame.deleted?.(e);
      out.close();
    } else if (filter(e)) {
      frame.event(e);
      if (opts.until(e, live)) out.close();
    }
  };
  frame.start?.();
  for (const e of replay) send(e, false);
  if (out.open && opts.idle()) out.close();
  if (out.open) unsubscribe = log.subscribe((e) => send(e, true));
  return out.readable;
}
