import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { THREAD_MIGRATIONS } from "../../migrations/thread/index.ts";
import { api, createThread, threadStubFor, useMockUpstream } from "../helpers.ts";

useMockUpstream();

describe("schema migrations", () => {
  it("records every migration once in schema_migrations, in order", async () => {
    const t = await createThread();
    const rows = await runInDurableObject(threadStubFor(t.id), (_o, state) =>
      state.storage.sql.exec("SELECT version, name FROM schema_migrations ORDER BY version").toArray());
    expect(rows).toEqual(THREAD_MIGRATIONS.map((m, i) => ({ version: i + 1, name: m.name })));
  });

  it("upgrades an object left at schema N when it next wakes, keeping its data", async () => {
    const t = await createThread({ instructions: "old object" });
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "written at schema 1" });
    const stub = threadStubFor(t.id);
    // Put the object back to schema 1: the state of an object created before migration 2 shipped.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("DROP INDEX turns_unfinished");
      state.storage.sql.exec("DROP TABLE turns");
      state.storage.sql.exec("DROP TABLE events");
      state.storage.sql.exec("DROP TABLE idempotency");
      state.storage.sql.exec("DROP TABLE responses");
      state.storage.sql.exec("DROP TABLE ws_tickets");
      state.storage.sql.exec("ALTER TABLE thread DROP COLUMN hidden");
      state.storage.sql.exec("ALTER TABLE messages DROP COLUMN branch");
      state.storage.sql.exec("DELETE FROM schema_migrations WHERE version > 1");
    });
    await evictDurableObject(stub);

    // Waking runs the constructor, which applies migrations 2 and up; the old message is intact and turns work.
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "after the upgrade" });
    expect(r.status).toBe(200);
    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data.map((m: any) => m.content);
    expect(msgs).toEqual(["written at schema 1", "after the upgrade", "echo(3): after the upgrade"]);
    const versions = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version").toArray().map((r) => r.version));
    expect(versions).toEqual(THREAD_MIGRATIONS.map((_, i) => i + 1));
  });

  it("closes a turn left in progress by an eviction as failed when the object wakes", async () => {
    const t = await createThread();
    const stub = threadStubFor(t.id);
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("INSERT INTO turns (seq, status, input_first, input_last, output_seq, model, created_at) VALUES (99, 'in_progress', 1, 1, 2, 'm', 0)");
    });
    await evictDurableObject(stub);
    const thread = (await api("GET", `/v1/threads/${t.id}`)).body;
    expect(thread.status).toBe("idle");
    const prefixTurn = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ status: string; error: string }>("SELECT status, error FROM turns WHERE seq = 99").one());
    expect(prefixTurn.status).toBe("failed");
    expect(JSON.parse(prefixTurn.error).code).toBe("turn_interrupted");
  });
});

describe("waking after a crash mid-reply", () => {
  it("never hands out again a seq that unstored deltas may have used, and announces the interrupted turn", async () => {
    const t = await createThread();
    const stub = threadStubFor(t.id);
    // A turn in progress whose last stored event is seq 5: deltas 6.. may have reached clients, unstored.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("INSERT INTO turns (seq, status, input_first, input_last, output_seq, model, created_at) VALUES (7, 'in_progress', 1, 1, 2, 'm', 0)");
      state.storage.sql.exec("UPDATE thread SET event_seq = 5");
    });
    await evictDurableObject(stub);
    const m = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "after the crash" });
    expect(m.status).toBe(201);
    const stored = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ seq: number; type: string }>("SELECT seq, type FROM events ORDER BY seq").toArray());
    expect(stored.map((e) => e.type)).toEqual(["turn.failed", "message.created"]);
    expect(stored[0]!.seq).toBeGreaterThan(5 + 64);
    // Resuming from a seq in the lost range is refused, not answered with a silent gap.
    expect((await api("GET", `/v1/threads/${t.id}/events?after=10`)).status).toBe(400);
  });
});
