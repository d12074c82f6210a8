/** Chat SDK's StateAdapter on Durable Objects: each key is its own BotStateObject (see there for why). */
import type { Lock, QueueEntry, StateAdapter } from "chat";
import type { BotEnv } from "./config.ts";

/** A StateAdapter whose every key lives in a strongly consistent Durable Object. */
export class DurableObjectState implements StateAdapter {
  /** Keys this instance claimed with setIfNotExists (dedupe marks): released if the request fails. */
  private readonly claimed: string[] = [];

  constructor(private readonly env: BotEnv) {}

  /**
   * Deletes every key this instance claimed, so that the platform's
   * redelivery of an update this request could not store is processed
   * rather than dropped as a duplicate.
   */
  async releaseClaims(): Promise<void> {
    await Promise.all(this.claimed.splice(0).map((k) => this.delete(k)));
  }

  private key(name: string) {
    return this.env.BOT_STATE.get(this.env.BOT_STATE.idFromName(name));
  }

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async get<T = unknown>(key: string): Promise<T | null> {
    return (await this.key(`kv:${key}`).read()) as T | null;
  }

  async set<T = unknown>(key: string, value: T, ttlMs?: number): Promise<void> {
    await this.key(`kv:${key}`).write(value, ttlMs);
  }

  async setIfNotExists(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    const won = await this.key(`kv:${key}`).writeIfAbsent(value, ttlMs);
    if (won) this.claimed.push(key);
    return won;
  }

  async delete(key: string): Promise<void> {
    await this.key(`kv:${key}`).remove();
  }

  async appendToList(key: string, value: unknown, options?: { maxLength?: number; ttlMs?: number }): Promise<void> {
    await this.key(`list:${key}`).append(value, options?.maxLength, options?.ttlMs);
  }

  async getList<T = unknown>(key: string): Promise<T[]> {
    return ((await this.key(`list:${key}`).read()) as T[] | null) ?? [];
  }

  async subscribe(threadId: string): Promise<void> {
    await this.key(`sub:${threadId}`).write(true);
  }

  async unsubscribe(threadId: string): Promise<void> {
    await this.key(`sub:${threadId}`).remove();
  }

  async isSubscribed(threadId: string): Promise<boolean> {
    return (await this.key(`sub:${threadId}`).read()) === true;
  }

  async acquireLock(threadId: string, ttlMs: number): Promise<Lock | null> {
    const lock: Lock = { threadId, token: crypto.randomUUID(), expiresAt: Date.now() + ttlMs };
    return (await this.key(`lock:${threadId}`).writeIfAbsent(lock, ttlMs)) ? lock : null;
  }

  async releaseLock(lock: Lock): Promise<void> {
    await this.key(`lock:${lock.threadId}`).swap(lock, null);
  }

  async extendLock(lock: Lock, ttlMs: number): Promise<boolean> {
    const next: Lock = { ...lock, expiresAt: Date.now() + ttlMs };
    const ok = await this.key(`lock:${lock.threadId}`).swap(lock, next, ttlMs);
    if (ok) lock.expiresAt = next.expiresAt;
    return ok;
  }

  async forceReleaseLock(threadId: string): Promise<void> {
    await this.key(`lock:${threadId}`).remove();
  }

  async enqueue(threadId: string, entry: QueueEntry, maxSize: number): Promise<number> {
    // A Message is a class instance: it crosses RPC as its JSON form.
    return this.key(`queue:${threadId}`).append(JSON.parse(JSON.stringify(entry)), maxSize);
  }

  async dequeue(threadId: string): Promise<QueueEntry | null> {
    return (await this.key(`queue:${threadId}`).shift()) as QueueEntry | null;
  }

  async queueDepth(threadId: string): Promise<number> {
    return ((await this.key(`queue:${threadId}`).read()) as unknown[] | null)?.length ?? 0;
  }
}
