/**
 * A thread's link to its tenant's DirectoryObject: the listing entry (kept
 * fresh without delaying replies) and the tenant's turn rate limit (taken in
 * arrival order).
 */
import type { DirectoryObject } from "../directory/DirectoryObject.ts";
import type { Env } from "../env.ts";
import { RateLimitError } from "../errors.ts";
import { LIMITS } from "../protocol/limits.ts";
import type { ThreadRow } from "./store.ts";

/** Activity (turns, appended messages) reaches the tenant directory at most this often per thread. */
const DIRECTORY_THROTTLE_MS = 1000;

export class TenantLink {
  private stub: { tenant: string; stub: DurableObjectStub<DirectoryObject> } | null = null;
  private admission: Promise<unknown> = Promise.resolve();
  private sentAt = 0;
  private later: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | null = null;

  constructor(
    private readonly env: Env,
    private readonly thread: () => ThreadRow | null,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  /**
   * The tenant's directory stub, one per object: calls through one stub arrive
   * in the order they were made, so an update can never overtake a later remove.
   */
  directory(tenant: string): DurableObjectStub<DirectoryObject> {
    if (this.stub?.tenant !== tenant) this.stub = { tenant, stub: this.env.DIRECTORY.get(this.env.DIRECTORY.idFromName(tenant)) };
    return this.stub.stub;
  }

  /**
   * Waits for the tenant's rate limit (429 with Retry-After when its bucket is
   * empty), in arrival order: each admission starts only after the previous one
   * has finished (and its turn has started), so a slow answer from the
   * directory cannot reorder the turns of this thread.
   */
  admit(tenant: string): Promise<void> {
    const gate = this.admission.then(async () => {
      const wait = await this.directory(tenant).takeTurn(LIMITS.turnsPerMinute);
      if (wait !== null) {
        throw new RateLimitError(`Rate limit reached: at most ${LIMITS.turnsPerMinute} turns per minute (TURNS_PER_MINUTE).`, wait);
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

  /** Drops a pending update and removes the thread from the listing (the thread is being deleted). */
  async remove(t: ThreadRow): Promise<void> {
    this.cancel();
    if (!t.hidden) await this.directory(t.tenant).remove(t.id);
  }

  private send(): void {
    const t = this.thread();
    if (!t || t.hidden) return;
    this.sentAt = Date.now();
    const entry = { id: t.id, created_at: t.created_at, activity_ms: Date.now(), metadata: t.metadata };
    this.waitUntil(this.directory(t.tenant).upsert(entry).catch((err) => console.error("directory update failed", err)));
  }

  private cancel(): void {
    if (!this.later) return;
    clearTimeout(this.later.timer);
    this.later.resolve();
    this.later = null;
  }
}
