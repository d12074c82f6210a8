/** What a thread keeps and for how long: the alarm that prunes the resume buffer and idempotency keys, and expiry. */
import { IDEMPOTENCY_TTL_MS } from "./idempotency.ts";
import type { EventLog } from "./events.ts";
import type { ThreadRow, ThreadStore } from "./store.ts";

/** Streamed deltas stay in the resume buffer this long; other events a day. */
const DELTA_RETENTION_MS = 3600 * 1000;
const EVENT_RETENTION_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

export interface RetentionDeps {
  storage: DurableObjectStorage;
  store: ThreadStore;
  events: EventLog;
  thread(): ThreadRow | null;
  /** True while a turn is queued or running: an expired thread waits for it. */
  busy(): boolean;
  /** Deletes the expired thread. */
  wipe(): Promise<unknown>;
  /** Refreshes the tenant's listing of this thread. */
  touchListing(metadataChanged: boolean): void;
}

/** When an expiring thread (expires_after) ends, in Unix ms: that long after its last activity. */
export function expiresAtMs(t: Pick<ThreadRow, "expires_after" | "updated_at">): number | null {
  if (!t.expires_after) return null;
  const { seconds } = JSON.parse(t.expires_after) as { seconds: number };
  return (t.updated_at + seconds) * 1000;
}

export class Retention {
  /**
   * When owed work outside a turn (a bot reply still being delivered) needs the
   * alarm by, or null: the alarm is never set later than that, and an expired
   * thread waits for the work. The bot session sets it (src/bots/session.ts).
   */
  heldUntil: () => number | null = () => null;

  constructor(private readonly d: RetentionDeps) {}

  /** After any change: make sure the alarm (pruning, expiry) is set, and refresh the tenant's listing. */
  async afterActivity(metadataChanged = false): Promise<void> {
    const t = this.d.thread();
    if (!t) return;
    const expiresAt = expiresAtMs(t);
    const held = this.heldUntil();
    const current = await this.d.storage.getAlarm();
    // Activity pushes an expiry back; otherwise an alarm already set is left alone (unless owed work needs it sooner).
    if (current === null || expiresAt !== null || (held !== null && current > held)) {
      await this.d.storage.setAlarm(Math.min(Date.now() + PRUNE_EVERY_MS, expiresAt ?? Infinity, held ?? Infinity));
    }
    this.d.touchListing(metadataChanged);
  }

  /** Prunes the resume buffer and idempotency keys, and deletes the thread once it has expired. */
  async alarm(): Promise<void> {
    const { store, events } = this.d;
    const t = this.d.thread();
    if (!t) return;
    const nowMs = Date.now();
    const expiresAt = expiresAtMs(t);
    const held = this.heldUntil();
    if (expiresAt !== null && nowMs >= expiresAt && !this.d.busy() && held === null) {
      await this.d.wipe();
      return;
    }
    events.flush();
    store.pruneEvents(nowMs - DELTA_RETENTION_MS, nowMs - EVENT_RETENTION_MS);
    store.pruneIdempotency(nowMs - IDEMPOTENCY_TTL_MS);
    // An expired thread with a turn still running is looked at again shortly. Otherwise
    // the alarm comes back only while there is something to prune or an expiry to
    // keep: an idle thread with nothing left is never woken again.
    const prune = store.hasPrunable() ? nowMs + PRUNE_EVERY_MS : Infinity;
    const next = Math.min(expiresAt !== null && expiresAt <= nowMs ? nowMs + 1000 : Math.min(prune, expiresAt ?? Infinity), held ?? Infinity);
    if (next !== Infinity) await this.d.storage.setAlarm(next);
  }
}
