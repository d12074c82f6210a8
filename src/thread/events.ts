/**
 * The thread's event log: every change gets the next gap-free seq, goes at once to
 * every live listener (sockets, SSE), and is kept in the resume buffer (the
 * `events` table) so a client can replay from any seq it saw.
 */
import type { Message, NewEvent, ThreadEvent, Turn } from "../protocol/types.ts";
import { messageShape, seqOf, threadShape, turnShape } from "./shapes.ts";
import type { EventRow, ThreadRow, ThreadStore } from "./store.ts";

export type Listener = (event: ThreadEvent) => void;

/** Deltas buffered in memory are written as one row at most this often… */
const DELTA_FLUSH_MS = 250;
/** …or when this many are waiting. */
const DELTA_FLUSH_COUNT = 64;
/** The most delta seqs a crash can lose (handed out, not yet stored): a woken thread skips this many. */
export const MAX_UNSTORED_DELTAS = DELTA_FLUSH_COUNT;
/**
 * Most events one replay may return, and most characters of message content it
 * may rebuild: a replay is for catching up on a turn or two, not for reading a
 * history (that is what the paged message list is for). Beyond either, the
 * client gets a snapshot (socket) or resume_window_expired (SSE).
 */
export const MAX_REPLAY = 1_000;
export const MAX_REPLAY_CHARS = 2_000_000;

/** A run of deltas of one message with consecutive seqs: m = message ID, t = turn ID, d = the deltas. */
interface DeltaChunk {
  m: string;
  t: string;
  d: string[];
}

interface PendingDeltas extends DeltaChunk {
  first: number;
  messageSeq: number;
}

export class EventLog {
  /** Read from storage on first use, after the constructor's migrations have run. */
  private seq: number | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly permanent = new Set<Listener>();
  private pending: PendingDeltas | null = null;
  /** The thread's id and ID prefix, cached (reset with the thread). */
  private ident: Pick<ThreadRow, "id" | "id_prefix"> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly store: ThreadStore, private readonly busy: () => boolean) {}

  /**
   * The seq of the newest event emitted. Every stored row records the seqs it
   * holds, so the stored counter (thread.event_seq) is written only for seqs
   * no row records: skipped ones, and before old rows are pruned.
   */
  lastSeq(): number {
    return (this.seq ??= Math.max(this.store.thread()?.event_seq ?? 0, this.store.lastStoredEventSeq()));
  }

  /**
   * Emits an event with the next seq. A non-delta event is stored (as a
   * reference to its message or turn) together with the write it reports, and
   * flushes the deltas before it; deltas are coalesced in memory and stored as
   * one row per chunk, so a streamed reply costs no write per token. The row
   * is the counter's record too: no separate counter write.
   */
  emit(e: NewEvent): ThreadEvent {
    // A thread's id and prefix never change while it exists: read them once, not per delta.
    const t = (this.ident ??= this.store.thread());
    if (!t) throw new Error("emit on a deleted thread");
    this.seq = this.lastSeq() + 1;
    const event = { seq: this.seq, thread_id: t.id, ...e } as ThreadEvent;
    if (event.type === "message.delta") this.bufferDelta(t, event);
    else {
      this.flush();
      this.store.insertEvents([rowOf(t, event)]);
    }
    this.announce(event);
    return event;
  }

  /**
   * Emits several non-delta events of one synchronous write (a turn's start or
   * end) with consecutive seqs: stored in one statement, together with the
   * deltas still buffered before them, then announced in order.
   */
  emitAll(es: NewEvent[]): ThreadEvent[] {
    const t = (this.ident ??= this.store.thread());
    if (!t) throw new Error("emit on a deleted thread");
    const deltas = this.takeDeltas();
    const events = es.map((e) => {
      if (e.type === "message.delta") throw new Error("deltas are emitted one by one");
      this.seq = this.lastSeq() + 1;
      return { seq: this.seq, thread_id: t.id, ...e } as ThreadEvent;
    });
    this.store.insertEvents([...(deltas ? [deltas] : []), ...events.map((e) => rowOf(t, e))]);
    for (const e of events) this.announce(e);
    return events;
  }

  private announce(event: ThreadEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        console.error("event listener failed", err);
      }
    }
  }

  /** Leaves n seqs unused (stored), after a crash that may have lost deltas that used them. */
  skip(n: number): void {
    this.seq = this.lastSeq() + n;
    this.store.updateThread({ event_seq: this.seq });
  }

  /**
   * Registers a listener; returns the function that removes it. Listeners of
   * a thread end with it (reset); a `permanent` one (the socket broadcaster)
   * serves every thread this object will hold.
   */
  subscribe(l: Listener, permanent = false): () => void {
    this.listeners.add(l);
    if (permanent) this.permanent.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * The events after `after`, oldest first, rebuilt from the resume buffer and
   * the deltas not yet written; null if the buffer no longer reaches back that
   * far. Synchronous: no event can be emitted between this and a subscribe made
   * in the same tick, so replay + live has no gap and no duplicate.
   */
  replay(after: number): ThreadEvent[] | null {
    const t = this.store.thread();
    if (!t) return [];
    const last = this.lastSeq();
    // A seq this thread never reached (say, one from a deleted thread of the same ID) cannot be resumed from.
    if (after > last) return null;
    if (after === last) return [];
    if (last - after > MAX_REPLAY) return null;
    const rows = this.store.eventsFrom(after, MAX_REPLAY);
    // Every seq from after + 1 to the newest must be covered by a stored row or
    // the in-memory deltas; a hole means pruned (or lost) events: no partial replay.
    let next = after + 1;
    for (const row of rows) {
      if (row.seq > next) return null;
      next = Math.max(next, row.last_seq + 1);
    }
    if (this.pending) {
      if (this.pending.first > next) return null;
      next = this.pending.first + this.pending.d.length;
    }
    if (next <= last) return null;
    const out: ThreadEvent[] = [];
    let chars = 0;
    for (const row of rows) {
      for (const e of eventsOf(this.store, t, row, this.busy())) {
        if ("message" in e) chars += typeof e.message.content === "string" ? e.message.content.length : JSON.stringify(e.message.content).length;
        else if ("delta" in e) chars += e.delta.length;
        if (chars > MAX_REPLAY_CHARS) return null;
        out.push(e);
      }
    }
    if (this.pending) out.push(...deltaEvents(t.id, this.pending.first, this.pending));
    return out.filter((e) => e.seq > after);
  }

  /** Writes buffered deltas as one row (which records their seqs). */
  flush(): void {
    const row = this.takeDeltas();
    if (row) this.store.insertEvents([row]);
  }

  /** The buffered deltas as one row, no longer buffered (the caller stores it), or null. */
  private takeDeltas(): EventRow | null {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const p = this.pending;
    if (!p) return null;
    this.pending = null;
    return { seq: p.first, last_seq: p.first + p.d.length - 1, type: "message.delta", ref: p.messageSeq,
      data: JSON.stringify({ m: p.m, t: p.t, d: p.d } satisfies DeltaChunk), created_at: Date.now() };
  }

  /** Forgets the counter and the buffer after the thread's storage is wiped. */
  reset(): void {
    clearTimeout(this.flushTimer);
    this.pending = null;
    this.seq = null;
    this.ident = null;
    for (const l of this.listeners) if (!this.permanent.has(l)) this.listeners.delete(l);
  }

  private bufferDelta(t: Pick<ThreadRow, "id_prefix">, e: Extract<ThreadEvent, { type: "message.delta" }>): void {
    const p = this.pending;
    const contiguous = p && p.m === e.message_id && p.first + p.d.length === e.seq;
    if (!contiguous) {
      this.flush();
      this.pending = { first: e.seq, messageSeq: seqOf(e.message_id, "msg", t.id_prefix) ?? 0, m: e.message_id, t: e.turn_id, d: [] };
    }
    this.pending!.d.push(e.delta);
    if (this.pending!.d.length >= DELTA_FLUSH_COUNT) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), DELTA_FLUSH_MS);
  }
}

/** The stored form of a non-delta event: its type and a reference, rebuilt on replay. */
function rowOf(t: Pick<ThreadRow, "id_prefix">, e: ThreadEvent): EventRow {
  const base = { seq: e.seq, last_seq: e.seq, type: e.type, created_at: Date.now() };
  switch (e.type) {
    case "message.created":
      return { ...base, ref: e.message.seq, data: e.message.status === "in_progress" ? JSON.stringify({ placeholder: e.message }) : null };
    case "message.completed":
      return { ...base, ref: e.message.seq, data: null };
    case "message.deleted":
      return { ...base, ref: null, data: JSON.stringify({ id: e.message_id }) };
    case "thread.updated":
    case "thread.deleted":
      return { ...base, ref: null, data: null };
    case "message.delta":
      throw new Error("deltas are buffered, not stored one by one");
    case "message.tool_call.delta":
    case "message.reasoning.delta": {
      // Stored whole, one row each: argument fragments are few, and reasoning is rare.
      const { seq: _s, thread_id: _t, ...rest } = e;
      return { ...base, ref: null, data: JSON.stringify(rest) };
    }
    default:
      return { ...base, ref: seqOf(e.turn.id, "turn", t.id_prefix), data: null };
  }
}

/** Rebuilds the events a stored row stands for (a delta chunk stands for several). */
function eventsOf(store: ThreadStore, t: ThreadRow, row: EventRow, busy: boolean): ThreadEvent[] {
  const base = { seq: row.seq, thread_id: t.id };
  switch (row.type) {
    case "message.delta":
      return deltaEvents(t.id, row.seq, JSON.parse(row.data!) as DeltaChunk);
    case "message.created": {
      if (row.data) return [{ ...base, type: "message.created", message: (JSON.parse(row.data) as { placeholder: Message }).placeholder }];
      const m = store.message(row.ref!);
      return m ? [{ ...base, type: "message.created", message: messageShape(t, m) }] : [];
    }
    case "message.completed": {
      const m = store.message(row.ref!);
      return m ? [{ ...base, type: "message.completed", message: messageShape(t, m) }] : [];
    }
    case "message.deleted":
      return [{ ...base, type: "message.deleted", message_id: (JSON.parse(row.data!) as { id: string }).id }];
    case "message.tool_call.delta":
    case "message.reasoning.delta":
      return [{ ...base, ...(JSON.parse(row.data!) as object) } as ThreadEvent];
    case "thread.updated":
      return [{ ...base, type: "thread.updated", thread: threadShape(t, busy) }];
    case "thread.deleted":
      return [{ ...base, type: "thread.deleted" }];
    default: {
      const r = store.turn(row.ref!);
      if (!r) return [];
      const turn: Turn = turnShape(t, r);
      // A turn's row holds its final state; its earlier events showed it as it was then.
      if (row.type === "turn.created") Object.assign(turn, { status: "queued", usage: null, error: null, completed_at: null });
      if (row.type === "turn.started") Object.assign(turn, { status: "in_progress", usage: null, error: null, completed_at: null });
      return [{ ...base, type: row.type as "turn.created", turn }];
    }
  }
}

function deltaEvents(threadId: string, first: number, c: DeltaChunk): ThreadEvent[] {
  return c.d.map((delta, i) => ({ type: "message.delta", seq: first + i, thread_id: threadId, message_id: c.m, turn_id: c.t, delta }));
}

/** The turn ID an event belongs to, if any. */
export function turnOfEvent(e: ThreadEvent): string | null {
  switch (e.type) {
    case "message.delta":
    case "message.tool_call.delta":
    case "message.reasoning.delta":
      return e.turn_id;
    case "message.created":
    case "message.completed":
      return e.message.turn_id;
    case "message.deleted":
    case "thread.updated":
    case "thread.deleted":
      return null;
    default:
      return e.turn.id;
  }
}

const TERMINAL = new Set(["turn.completed", "turn.requires_action", "turn.incomplete", "turn.failed", "turn.cancelled"]);

/** Whether the event ends its turn. */
export function isTurnEnd(e: ThreadEvent): boolean {
  return TERMINAL.has(e.type);
}

const enc = new TextEncoder();

/** One Server-Sent Event frame: `event:` the type, `id:` the thread seq, `data:` the JSON event. */
export function sseFrame(e: ThreadEvent): Uint8Array {
  return enc.encode(`event: ${e.type}\nid: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
}
