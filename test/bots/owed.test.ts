/** A bot reply owed across a restart: the thread's alarm keeps the delivery's heartbeat and does not delete an expired thread under it. */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createThread, threadStubFor, useMockUpstream } from "../helpers.ts";

useMockUpstream();

describe("ThreadObject alarm with a bot reply owed", () => {
  it("keeps an expired thread and its 15 s heartbeat while a delivery a restart cut is still owed", async () => {
    const t = await createThread({ expires_after: { anchor: "last_active_at", seconds: 60 } });
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "hi" });
    // As a restart leaves it: the thread idle past its expiry, and the record of a reply
    // still being delivered (src/bots/session.ts writes it before the webhook answers).
    await runInDurableObject(threadStubFor(t.id), async (_o, state) => {
      state.storage.sql.exec("UPDATE thread SET updated_at = updated_at - 120");
      await state.storage.put("bot:delivery:1", { platform: "telegram", threadId: t.id, turn: 1, receivedAt: Date.now() });
    });
    await evictDurableObject(threadStubFor(t.id));
    const before = Date.now();
    expect(await runDurableObjectAlarm(threadStubFor(t.id))).toBe(true);
    // The owed reply is being delivered: the thread stays, and the alarm comes back within the heartbeat.
    expect((await api("GET", `/v1/threads/${t.id}`)).status).toBe(200);
    const alarm = await runInDurableObject(threadStubFor(t.id), (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(before + 16_000);
    // Once the delivery is over (here it fails: no Bot API is configured), expiry deletes the thread.
    const left = await runInDurableObject(threadStubFor(t.id), async (_o, state) => {
      await new Promise((r) => setTimeout(r, 200));
      return [...(await state.storage.list({ prefix: "bot:" })).keys()];
    });
    expect(left).toEqual([]);
    await runDurableObjectAlarm(threadStubFor(t.id));
    expect((await api("GET", `/v1/threads/${t.id}`)).status).toBe(404);
  });
});
