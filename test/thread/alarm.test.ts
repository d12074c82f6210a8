import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createThread, get, SseReader, threadStubFor, useMockUpstream } from "../helpers.ts";

useMockUpstream();

/**
 * Ages a thread by rewriting its storage behind the object's back, then
 * restarts the object: a live one keeps its thread row cached (src/thread/store.ts).
 */
async function ageThread(id: string, seconds: number): Promise<void> {
  await runInDurableObject(threadStubFor(id), (_o, state) => {
    state.storage.sql.exec("UPDATE thread SET updated_at = updated_at - ?", seconds);
  });
  await evictDurableObject(threadStubFor(id));
}

const count = (id: string, sql: string) =>
  runInDurableObject(threadStubFor(id), (_o, state) => state.storage.sql.exec<{ n: number }>(sql).one().n);

describe("ThreadObject alarm", () => {
  it("is set by activity and prunes old deltas, old events and old idempotency keys", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "a b c d e", stream: true });
    await new SseReader(await get(`/v1/threads/${t.id}/events?after=0`)).all();
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "x" }, { "Idempotency-Key": "k1" });
    expect(await count(t.id, "SELECT count(*) AS n FROM events WHERE type = 'message.delta'")).toBeGreaterThan(0);

    // Age everything by two hours: deltas (kept 1 h) go, other events (kept 24 h) stay.
    await runInDurableObject(threadStubFor(t.id), (_o, state) => {
      state.storage.sql.exec("UPDATE events SET created_at = created_at - 7200000");
    });
    expect(await runDurableObjectAlarm(threadStubFor(t.id))).toBe(true);
    expect(await count(t.id, "SELECT count(*) AS n FROM events WHERE type = 'message.delta'")).toBe(0);
    expect(await count(t.id, "SELECT count(*) AS n FROM events")).toBeGreaterThan(0);
    // Replaying from before the pruned deltas is refused, not answered with a gap.
    const stale = await api("GET", `/v1/threads/${t.id}/events?after=0`);
    expect(stale.status).toBe(400);
    expect(stale.body.error.code).toBe("resume_window_expired");

    // Age by two days: every event and the idempotency key go; the messages stay.
    await runInDurableObject(threadStubFor(t.id), (_o, state) => {
      state.storage.sql.exec("UPDATE events SET created_at = created_at - 172800000");
      state.storage.sql.exec("UPDATE idempotency SET created_at = created_at - 172800000");
    });
    expect(await runDurableObjectAlarm(threadStubFor(t.id))).toBe(true);
    expect(await count(t.id, "SELECT count(*) AS n FROM events")).toBe(0);
    expect(await count(t.id, "SELECT count(*) AS n FROM idempotency")).toBe(0);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(3);
    // Nothing left to prune and no expiry: the idle thread is not woken again.
    expect(await runInDurableObject(threadStubFor(t.id), (_o, state) => state.storage.getAlarm())).toBeNull();
    // Live joining still works.
    expect((await api("GET", `/v1/threads/${t.id}/events`)).status).toBe(200);
  });

  it("deletes a thread that has been idle longer than expires_after, and the directory forgets it", async () => {
    const t = await createThread({ expires_after: { anchor: "last_active_at", seconds: 60 } });
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "hi" });
    // Not yet idle long enough: the alarm keeps it.
    await runDurableObjectAlarm(threadStubFor(t.id));
    expect((await api("GET", `/v1/threads/${t.id}`)).status).toBe(200);
    await ageThread(t.id, 61);
    expect(await runDurableObjectAlarm(threadStubFor(t.id))).toBe(true);
    expect((await api("GET", `/v1/threads/${t.id}`)).status).toBe(404);
    const listed = (await api("GET", "/v1/threads?limit=100")).body.data.map((x: any) => x.id);
    expect(listed).not.toContain(t.id);
  });

  it("pushes the expiry back on activity", async () => {
    const t = await createThread({ expires_after: { anchor: "last_active_at", seconds: 60 } });
    await ageThread(t.id, 50);
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "still here" });
    const alarm = await runInDurableObject(threadStubFor(t.id), (_o, state) => state.storage.getAlarm());
    expect(alarm! - Date.now()).toBeGreaterThan(55_000);
    await runDurableObjectAlarm(threadStubFor(t.id));
    expect((await api("GET", `/v1/threads/${t.id}`)).status).toBe(200);
  });
});

describe("expiring conversations", () => {
  it("deletes an idle conversation created with expires_after", async () => {
    const c = (await api("POST", "/v1/conversations", { expires_after: { anchor: "last_active_at", seconds: 30 } })).body;
    expect((await api("GET", `/v1/threads/${c.id}`)).body.expires_after).toEqual({ anchor: "last_active_at", seconds: 30 });
    await ageThread(c.id, 31);
    expect(await runDurableObjectAlarm(threadStubFor(c.id))).toBe(true);
    expect((await api("GET", `/v1/conversations/${c.id}`)).status).toBe(404);
  });
});
