/** The thread's event log: gives every event the next seq and hands it to every live listener. */
import type { NewEvent, ThreadEvent } from "../protocol/types.ts";
import type { ThreadStore } from "./store.ts";

export type Listener = (event: ThreadEvent) => void;

export class EventLog {
  /** Read from storage on first use, after the constructor's migrations have run. */
  private seq: number | null = null;
  private readonly listeners = new Set<Listener>();

  constructor(private readonly store: ThreadStore, private readonly threadId: () => string) {}

  /**
   * Emits an event with the next seq. Non-delta events persist the counter with
   * the write they accompany; deltas only advance it in memory, so a streaming
   * reply costs no storage write per token.
   */
  emit(e: NewEvent): ThreadEvent {
    this.seq = (this.seq ?? this.store.thread()?.event_seq ?? 0) + 1;
    const event = { ...e, seq: this.seq, thread_id: this.threadId() } as ThreadEvent;
    if (event.type !== "message.delta") this.store.updateThread({ event_seq: this.seq });
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        console.error("event listener failed", err);
      }
    }
    return event;
  }

  /** Registers a listener; returns the function that removes it. */
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Forgets the counter after the thread's storage is wiped. */
  reset(): void {
    this.seq = null;
  }
}

/** The turn ID an event belongs to, if any. */
export function turnOfEvent(e: ThreadEvent): string | null {
  switch (e.type) {
    case "message.delta":
      return e.turn_id;
    case "message.created":
    case "message.completed":
      return e.message.turn_id;
    case "message.deleted":
    case "thread.updated":
      return null;
    default:
      return e.turn.id;
  }
}

const TERMINAL = new Set(["turn.completed", "turn.incomplete", "turn.failed", "turn.cancelled"]);

/** Whether the event ends its turn. */
export function isTurnEnd(e: ThreadEvent): boolean {
  return TERMINAL.has(e.type);
}

const enc = new TextEncoder();

/** One Server-Sent Event frame: `event:` the type, `id:` the thread seq, `data:` the JSON event. */
export function sseFrame(e: ThreadEvent): Uint8Array {
  return enc.encode(`event: ${e.type}\nid: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
}
