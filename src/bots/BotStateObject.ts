/**
 * One Chat SDK state key (a dedupe claim, a lock, a cached value, a list or a
 * queue) in its own small Durable Object. A Durable Object is single-threaded
 * and its storage is strongly consistent, so set-if-absent and lock-if-free are
 * atomic here, which KV (eventually consistent) cannot promise; and since every
 * key is its own object, no bot update waits on a shared singleton.
 */
import { DurableObject } from "cloudflare:workers";

interface Entry {
  value: unknown;
  /** Unix ms after which the entry counts as absent; null: kept until deleted. */
  expiresAt: number | null;
}

const ENTRY = "entry";

export class BotStateObject extends DurableObject {
  /** The value, or null if absent or expired. */
  async read(): Promise<unknown> {
    return (await this.live())?.value ?? null;
  }

  /** Stores the value, replacing any; ttlMs bounds its life. */
  async write(value: unknown, ttlMs?: number): Promise<void> {
    await this.put({ value, expiresAt: ttlMs ? Date.now() + ttlMs : null });
  }

  /** Stores the value only if the key is absent or expired; true if it was stored. */
  async writeIfAbsent(value: unknown, ttlMs?: number): Promise<boolean> {
    // No await between the read and the write below can let another request in:
    // storage reads and writes of one object are serialized by its input gate.
    if (await this.live()) return false;
    await this.write(value, ttlMs);
    return true;
  }

  /** Removes the key. */
  async remove(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  /** Replaces the value only if it is still `expected` (compared as JSON); true if replaced. */
  async swap(expected: unknown, value: unknown, ttlMs?: number): Promise<boolean> {
    const cur = await this.live();
    if (JSON.stringify(cur?.value ?? null) !== JSON.stringify(expected)) return false;
    if (value === null) await this.remove();
    else await this.write(value, ttlMs);
    return true;
  }

  /** Appends to the list stored here, keeping the newest maxLength; returns the new length. */
  async append(item: unknown, maxLength?: number, ttlMs?: number): Promise<number> {
    const list = ((await this.live())?.value as unknown[] | undefined) ?? [];
    list.push(item);
    if (maxLength !== undefined && list.length > maxLength) list.splice(0, list.length - maxLength);
    const prev = await this.live();
    await this.put({ value: list, expiresAt: ttlMs ? Date.now() + ttlMs : (prev?.expiresAt ?? null) });
    return list.length;
  }

  /** Removes and returns the oldest list item, or null. */
  async shift(): Promise<unknown> {
    const cur = await this.live();
    const list = (cur?.value as unknown[] | undefined) ?? [];
    const first = list.shift();
    if (first === undefined) return null;
    await this.put({ value: list, expiresAt: cur?.expiresAt ?? null });
    return first;
  }

  /** Deletes the key once its time is up (set by put). */
  override async alarm(): Promise<void> {
    if (!(await this.live())) await this.remove();
  }

  private async live(): Promise<Entry | null> {
    const e = await this.ctx.storage.get<Entry>(ENTRY);
    if (!e || (e.expiresAt !== null && e.expiresAt <= Date.now())) return null;
    return e;
  }

  private async put(e: Entry): Promise<void> {
    await this.ctx.storage.put(ENTRY, e);
    if (e.expiresAt !== null) await this.ctx.storage.setAlarm(e.expiresAt);
    else await this.ctx.storage.deleteAlarm();
  }
}
