/** Broken Durable Object stubs are replaced, idempotent calls retried (an overloaded object once, late), overloaded objects answered with 503. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardOf, shardStub } from "../src/directory/shards.ts";
import { errorResponse, OVERLOADED_RETRY_AFTER_S } from "../src/errors.ts";
import { callIdempotent } from "../src/stubs.ts";
import { api, createThread, eventually, useMockUpstream } from "./helpers.ts";

useMockUpstream();

/**
 * Resets a directory shard the way a crash or code update does: every stub
 * connected to the old instance stays broken (each call on it throws), while
 * a new stub reaches a fresh instance on the same storage.
 */
async function resetShard(tenant: string, n: number): Promise<void> {
  await runInDurableObject(shardStub(env, tenant, n), (_o, state) => state.abort("reset by the test")).catch(() => {});
}

/** The directory row of a thread, read from its shard's storage. */
async function directoryRow(threadId: string): Promise<{ metadata: string } | undefined> {
  return runInDurableObject(shardStub(env, "local", shardOf(threadId)), (_o, state) =>
    state.storage.sql.exec<{ metadata: string }>("SELECT metadata FROM threads WHERE id = ?", threadId).toArray()[0]);
}

describe("directory shard stubs", () => {
  it("keeps a thread's listing entry current after its shard was reset: the thread's broken stub is replaced", async () => {
    const t = await createThread({ metadata: { v: "0" } });
    await eventually(async () => (await directoryRow(t.id))?.metadata === '{"v":"0"}', 5000);
    await resetShard("local", shardOf(t.id));
    expect((await api("POST", `/v1/threads/${t.id}`, { metadata: { v: "1" } })).status).toBe(200);
    await eventually(async () => (await directoryRow(t.id))?.metadata === '{"v":"1"}', 5000);
  });

  it("deletes a thread whose shard was reset, and the listing no longer shows it", async () => {
    const t = await createThread();
    await eventually(async () => (await directoryRow(t.id)) !== undefined, 5000);
    await resetShard("local", shardOf(t.id));
    expect((await api("DELETE", `/v1/threads/${t.id}`)).status).toBe(200);
    expect(await directoryRow(t.id)).toBeUndefined();
  });

  it("retries an idempotent call on a new stub when the cached one is broken", async () => {
    const tenant = "stub-test";
    await shardStub(env, tenant, 0).upsert({ id: "a", created_at: 1, activity_ms: 5, metadata: "{}" });
    let cached: DurableObjectStub<import("../src/directory/DirectoryObject.ts").DirectoryObject> | null = shardStub(env, tenant, 0);
    await cached.position("a");
    await resetShard(tenant, 0);
    let calls = 0;
    const found = await callIdempotent(() => (cached ??= shardStub(env, tenant, 0)), (s) => (calls++, s.position("a")), (broken) => {
      if (cached === broken) cached = null;
    });
    expect(found).toEqual({ activity_ms: 5, id: "a" });
    expect(calls).toBe(2);
  });
});

describe("callIdempotent retries only what the runtime marks retryable", () => {
  it("does not call again after an error without retryable: true (e.g. one the object's own code threw)", async () => {
    let calls = 0;
    const thrown = [new Error("a bug"), Object.assign(new Error("from the object"), { remote: true }), Object.assign(new Error("not this"), { retryable: false })];
    for (const err of thrown) {
      calls = 0;
      await expect(callIdempotent(() => null, async () => {
        calls++;
        throw err;
      })).rejects.toBe(err);
      expect(calls).toBe(1);
    }
  });

  it("calls again after a retryable error, and gives up after three attempts", async () => {
    let calls = 0;
    const transient = () => Object.assign(new Error("Network connection lost."), { retryable: true });
    expect(await callIdempotent(() => null, async () => {
      if (++calls < 3) throw transient();
      return "done";
    })).toBe("done");
    calls = 0;
    await expect(callIdempotent(() => null, async () => {
      calls++;
      throw transient();
    })).rejects.toThrow(/connection lost/);
    expect(calls).toBe(3);
  });
});

describe("an overloaded Durable Object", () => {
  // The runtime marks such errors with `overloaded: true`; local workerd cannot be driven into
  // that state, so the error here is made by hand with the property the runtime sets.
  const overloaded = () => Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true });

  it("is called once more on an idempotent call, after a pause of at least 250 ms, on a new stub", async () => {
    let calls = 0;
    const times: number[] = [];
    const stubs: number[] = [];
    let made = 0;
    expect(await callIdempotent(() => ++made, async (stub) => {
      times.push(Date.now());
      stubs.push(stub);
      if (++calls === 1) throw overloaded();
      return "done";
    })).toBe("done");
    expect(calls).toBe(2);
    expect(stubs).toEqual([1, 2]);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(250);
  });

  it("is not retried a second time, even when the error is also marked retryable: the second overload reaches the caller", async () => {
    let calls = 0;
    await expect(callIdempotent(() => null, async () => {
      calls++;
      throw Object.assign(overloaded(), { retryable: true });
    })).rejects.toThrow(/overloaded/);
    expect(calls).toBe(2);
  });

  it("is answered 503 with Retry-After and an OpenAI-shaped error", async () => {
    const res = errorResponse(overloaded());
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe(String(OVERLOADED_RETRY_AFTER_S));
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining("overloaded"), type: "server_error", param: null, code: "object_overloaded" } });
  });
});
