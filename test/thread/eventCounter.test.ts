/** The event counter lives in the event rows themselves; it is stored apart only before those rows are pruned. */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createThread, threadStubFor, useMockUpstream } from "../helpers.ts";

useMockUpstream();

/** The seqs of the stored event rows, oldest first. */
const storedSeqs = (id: string) =>
  runInDurableObject(threadStubFor(id), (_o, state) => state.storage.sql.exec<{ seq: number; last_seq: number }>(
    "SELECT seq, last_seq FROM events ORDER BY seq").toArray());

describe("event seqs", () => {
  it("continue after a restart past every seq handed out, with no counter write per event", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "one two three" });
    const before = await storedSeqs(t.id);
    const newest = before.at(-1)!.last_seq;
    expect(newest).toBeGreaterThan(4);
    await evictDurableObject(threadStubFor(t.id));
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "after the restart" });
    const after = await storedSeqs(t.id);
    expect(after.at(-1)!.seq).toBe(newest + 1);
  });

  it("continue past the pruned ones after the alarm has deleted every stored event", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "one two three" });
    const newest = (await storedSeqs(t.id)).at(-1)!.last_seq;
    await runInDurableObject(threadStubFor(t.id), (_o, state) => {
      state.storage.sql.exec("UPDATE events SET created_at = created_at - 172800000");
    });
    expect(await runDurableObjectAlarm(threadStubFor(t.id))).toBe(true);
    expect(await storedSeqs(t.id)).toEqual([]);
    await evictDurableObject(threadStubFor(t.id));
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "after the prune" });
    expect((await storedSeqs(t.id)).map((r) => r.seq)).toEqual([newest + 1]);
  });
});
