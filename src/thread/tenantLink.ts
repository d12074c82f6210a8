/**
 * A thread's link to its tenant: the listing entry in its directory shard
 * (kept fresh without delaying replies) and the tenant's turn rate limit
 * (taken in arrival order). Neither puts a per-tenant object on a turn's path.
 */
import type { DirectoryObject } from "../directory/DirectoryObject.ts";
import { directoryShardOf } from "../directory/shards.ts";
import type { Env } from "../env.ts";
import { RateLimitError } from "../errors.ts";
import { callIdempotent } from "../stubs.ts";
import type { ThreadRow } from "./store.ts";

/**
 * The period of wrangler.toml's TURN_LIMIT binding, in seconds (the binding
 * does not say when a refused key may try again, so Retry-After is one period).
 */
export const TURN_LIMIT_PERIOD_S = 60;

/** Activity (turns, appended messages) reaches the tenant directory at most this often per thread. */
const DIRECTORY_THROTTLE_MS = 1000;

export class TenantLink {
  private stub: { key: string; stub: DurableObjectStub<DirectoryObject> } | null = null;
  private admission: Promise<unknown> = Promise.resolve();
  private sentAt = 0;
  private later: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | null = null;

  constructor(
    private readonly env: Env,
    private readonly thread: () => ThreadRow | null,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  /**
   * The stub of this thread's directory shard, one per object: calls through
   * one stub arrive in the order they were made, so an update can never
   * overtake a later remove (until a call throws: then see call()).
   */
  private directory(t: ThreadRow): DurableObjectStub<DirectoryObject> {
    const key = JSON.stringify([t.tenant, t.id]);
    if (this.stub?.key !== key) this.stub = { key, stub: directoryShardOf(this.env, t.tenant, t.id) };
    return this.stub.stub;
  }

  /**
   * An idempotent call (upsert and remove are) on the cached shard stub; a
   * stub whose call threw is dropped, and the call is retried on a new one.
   */
  private call<T>(t: ThreadRow, fn: (stub: DurableObjectStub<DirectoryObject>) => Promise<T>): Promise<T> {
    return callIdempotent(() => this.directory(t), fn, (broken) => {
      if (this.stub?.stub === broken) this.stub = null;
    });
  }

  /**
   * Takes one turn from the tenant's limit on the Workers Rate Limiting
   * binding (429 with Retry-After once it is used up), in arrival order: each
   * admission starts only after the previous one has finished (and its turn
   * has started), so a slow answer cannot reorder the turns of this thread.
   */
  admit(tenant: string): Promise<void> {
    const gate = this.admission.then(async () => {
      const { success } = await this.env.TURN_LIMIT.limit({ key: tenant });
      if (!success) {
        throw new RateLimitError(`Rate limit reached: this tenant's turns per ${TURN_LIMIT_PERIOD_S} seconds are used up (wrangler.toml, TURN_LIMIT).`,
          TURN_LIMIT_PERIOD_S);
      }
    });
    this.admission = gate.catch(() => {});
    return gate;
  }

  /**
   * Refreshes the thread's directory entry without making anyone wait: at once
   * for a create or an update (what listings show must be right), otherwise at
   * most once per DIRECTORY_THROTTLE_MS — a busy conversation sends one update
   * per second, not one per turn, and its last activity is always sent.
   */
  touch(metadataChanged: boolean): void {
    const t = this.thread();
    if (!t || t.hidden) return;
    const elapsed = Date.now() - this.sentAt;
    if (metadataChanged || (elapsed >= DIRECTORY_THROTTLE_MS && !this.later)) {
      this.cancel();
      this.send();
    } else if (!this.later) {
      let resolve = () => {};
      const sent = new Promise<void>((r) => (resolve = r));
      const timer = setTimeout(() => {
        this.later = null;
        this.send();
        resolve();
      }, Math.max(0, DIRECTORY_THROTTLE_MS - elapsed));
      this.later = { timer, resolve };
      this.waitUntil(sent);
    }
  }

  /**
   * Drops a pending update and removes the thread from the listing (the thread
   * is being deleted, its storage already wiped). If the shard cannot be
   * reached even after retries, the deletion still succeeds: a listing skips
   * an entry whose thread is gone, so a left-over entry is only a wasted read.
   */
  async remove(t: ThreadRow): Promise<void> {
    this.cancel();
    if (t.hidden) return;
    await this.call(t, (d) => d.remove(t.id)).catch((err) => console.error("directory removal failed", err));
  }

  private send(): void {
    const t = this.thread();
    if (!t || t.hidden) return;
    this.sentAt = Date.now();
    const entry = { id: t.id, created_at: t.created_at, activity_ms: Date.now(), metadata: t.metadata };
    this.waitUntil(this.call(t, (d) => d.upsert(entry)).catch((err) => console.error("directory update failed", err)));
  }

  private cancel(): void {
    if (!this.later) return;
    clearTimeout(this.later.timer);
    this.later.resolve();
    this.later = null;
  }
}
