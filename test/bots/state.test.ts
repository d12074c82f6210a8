/** Chat SDK's state on Durable Objects: the atomic operations its dedupe and locks rely on, against real objects in workerd. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectState } from "../../src/bots/state.ts";

const state = () => new DurableObjectState(env);
const unique = (name: string) => `${name}-${crypto.randomUUID()}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("DurableObjectState", () => {
  it("claims a key once: the second setIfNotExists of a live key is refused, even from another adapter instance", async () => {
    const key = unique("dedupe:telegram:1");
    const claims = await Promise.all([state().setIfNotExists(key, true, 60_000), state().setIfNotExists(key, true, 60_000)]);
    expect(claims.sort()).toEqual([false, true]);
    expect(await state().get(key)).toBe(true);
  });

  it("lets a key be claimed again once its TTL has passed", async () => {
    const key = unique("dedupe:slack:1");
    expect(await state().setIfNotExists(key, "a", 50)).toBe(true);
    await sleep(120);
    expect(await state().get(key)).toBeNull();
    expect(await state().setIfNotExists(key, "b", 60_000)).toBe(true);
    expect(await state().get(key)).toBe("b");
  });

  it("holds a lock for one holder: others get null, a stale token cannot extend or release it", async () => {
    const thread = unique("telegram:42");
    const s = state();
    const lock = (await s.acquireLock(thread, 60_000))!;
    expect(lock.threadId).toBe(thread);
    expect(await s.acquireLock(thread, 60_000)).toBeNull();
    const stale = { ...lock, token: "someone-else" };
    expect(await s.extendLock(stale, 60_000)).toBe(false);
    await s.releaseLock(stale);
    expect(await s.acquireLock(thread, 60_000)).toBeNull();
    expect(await s.extendLock(lock, 120_000)).toBe(true);
    await s.releaseLock(lock);
    expect(await s.acquireLock(thread, 60_000)).not.toBeNull();
    await s.forceReleaseLock(thread);
    expect(await s.acquireLock(thread, 60_000)).not.toBeNull();
  });

  it("keeps lists (newest maxLength), subscriptions and per-thread queues", async () => {
    const s = state();
    const list = unique("history");
    for (const n of [1, 2, 3]) await s.appendToList(list, n, { maxLength: 2 });
    expect(await s.getList(list)).toEqual([2, 3]);

    const thread = unique("slack:C1:1.2");
    expect(await s.isSubscribed(thread)).toBe(false);
    await s.subscribe(thread);
    expect(await s.isSubscribed(thread)).toBe(true);
    await s.unsubscribe(thread);
    expect(await s.isSubscribed(thread)).toBe(false);

    const entry = (id: string) => ({ enqueuedAt: 1, expiresAt: 2, message: { id } as never });
    expect(await s.enqueue(thread, entry("a"), 10)).toBe(1);
    expect(await s.enqueue(thread, entry("b"), 10)).toBe(2);
    expect(await s.queueDepth(thread)).toBe(2);
    expect(((await s.dequeue(thread)) as { message: { id: string } }).message.id).toBe("a");
    expect(await s.queueDepth(thread)).toBe(1);
  });
});
