/** A thread object's life: schema migration on wake, closing interrupted turns, the transactional create, and the wipe. */
import { THREAD_MIGRATIONS } from "../../migrations/thread/index.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { ThreadCreate } from "../protocol/schemas.ts";
import type { Deleted } from "../protocol/types.ts";
import { applyMigrations, hasSchema } from "../storage/migrate.ts";
import { MAX_UNSTORED_DELTAS, type EventLog } from "./events.ts";
import { recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { randomPrefix, turnShape } from "./shapes.ts";
import type { ThreadRow, ThreadStore } from "./store.ts";

const now = () => Math.floor(Date.now() / 1000);

export interface LifecycleDeps {
  ctx: DurableObjectState;
  /** The model of a thread created without one (DEFAULT_MODEL). */
  defaultModel: string;
  store: ThreadStore;
  events: EventLog;
  /** Cancels a queued or running turn (the wipe does not wait for it). */
  cancelTurn(seq: number): void;
  /** Takes the thread out of its tenant's listing. */
  unlist(t: ThreadRow): Promise<void>;
}

export class Lifecycle {
  /** Whether the schema is applied (see wake()). */
  private migrated = false;

  constructor(private readonly d: LifecycleDeps) {}

  /**
   * Runs when the object starts or wakes. An object that never held a thread
   * has no schema, and reading it (a 404) must not create storage: migrations
   * run here only for objects that have data, and otherwise on the first create.
   */
  wake(): void {
    if (hasSchema(this.d.ctx.storage)) this.migrate();
  }

  /** The thread row, or null (also for an object with no schema: nothing is created by looking). */
  thread(): ThreadRow | null {
    return this.migrated ? this.d.store.thread() : null;
  }

  /** The thread row; 404 if this object holds none. */
  required(): ThreadRow {
    const t = this.thread();
    if (!t) throw new NotFoundError("No thread found with that id.", "thread_id");
    return t;
  }

  /**
   * Runs a synchronous create in one storage transaction: if it throws, none of
   * its writes stay, nor the schema if this request was the one that made it.
   */
  async createAtomically<T>(fn: () => T): Promise<T> {
    const fresh = !this.migrated;
    this.migrate();
    try {
      return this.d.ctx.storage.transactionSync(fn);
    } catch (err) {
      // The transaction rolled back what the store's cached thread row may have seen.
      this.d.store.forget();
      if (fresh) {
        this.d.events.reset();
        await this.d.ctx.storage.deleteAll();
        this.d.store.forget();
        this.migrated = false;
      }
      throw err;
    }
  }

  /** Inserts this object's thread; false if this is an idempotent retry of the create that made it. */
  insertThread(tenant: string, id: string, body: ThreadCreate, idem: IdempotencyKey | undefined, hidden: boolean): boolean {
    const { store } = this.d;
    this.migrate();
    if (store.thread()) {
      if (recall(store, idem)) return false;
      throw new ConflictError(`A thread with id '${id}' already exists.`, "thread_exists");
    }
    const t = now();
    store.insertThread({
      id, tenant, id_prefix: randomPrefix(), created_at: t, updated_at: t,
      model: body.model ?? this.d.defaultModel,
      instructions: body.instructions ?? null,
      metadata: JSON.stringify(body.metadata ?? {}),
      params: JSON.stringify(body.params ?? {}),
      expires_after: body.expires_after ? JSON.stringify(body.expires_after) : null,
      hidden,
    });
    remember(store, idem, { id });
    return true;
  }

  /** Deletes the thread: turns are cancelled, sockets closed, and every byte of storage is wiped. */
  async wipe(): Promise<Deleted<"thread.deleted">> {
    const { ctx, store, events } = this.d;
    const t = this.required();
    for (const r of store.unfinishedTurns()) this.d.cancelTurn(r.seq);
    // Tells every socket and stream that the thread is gone, and ends the streams.
    events.emit({ type: "thread.deleted" });
    for (const ws of ctx.getWebSockets()) {
      try {
        ws.close(1000, "thread deleted");
      } catch {
        // Already closed.
      }
    }
    events.reset();
    await ctx.storage.deleteAlarm();
    await ctx.storage.deleteAll();
    store.forget();
    // deleteAll drops the schema too: the object is as if new, and a create puts the schema back.
    this.migrated = false;
    await this.d.unlist(t);
    return { id: t.id, object: "thread.deleted" as const, deleted: true as const };
  }

  /** Applies pending migrations and closes turns a restart interrupted; idempotent. */
  private migrate(): void {
    if (this.migrated) return;
    applyMigrations(this.d.ctx.storage, THREAD_MIGRATIONS);
    this.closeInterruptedTurns();
    this.migrated = true;
  }

  /**
   * Turns a crash or eviction left open are closed as failed (and say so with
   * turn.failed), so the thread is never busy forever. Deltas of a reply that
   * was streaming may have had seqs that were never stored, so the event
   * counter first skips past every seq they could have used: no seq a client
   * saw is ever given to another event.
   */
  private closeInterruptedTurns(): void {
    const { store, events } = this.d;
    const open = store.unfinishedTurns();
    if (open.length === 0) return;
    const error = JSON.stringify({ message: "The turn was interrupted by a restart of its Durable Object.",
      type: "upstream_error", param: null, code: "turn_interrupted" });
    events.skip(MAX_UNSTORED_DELTAS);
    const t = store.thread();
    for (const r of open) {
      store.updateTurn(r.seq, { status: "failed", error, completed_at: now() });
      if (t) events.emit({ type: "turn.failed", turn: turnShape(t, store.turn(r.seq)!) });
    }
  }
}
