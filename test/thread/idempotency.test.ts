/** Idempotency-Key through the HTTP API: a retry answers what the first request did and writes nothing new. */
import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, eventually, post, SseReader, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

describe("Idempotency-Key", () => {
  it("a retried turn returns the first result and creates nothing", async () => {
    const t = await createThread();
    const h = { "Idempotency-Key": "turn-key-1" };
    const a = await api("POST", `/v1/threads/${t.id}/turns`, { input: "once" }, h);
    const b = await api("POST", `/v1/threads/${t.id}/turns`, { input: "once" }, h);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(2);
    expect(mock.chatRequests()).toHaveLength(1);
  });

  it("a retry while the turn still runs waits for the same turn", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 5;
    const h = { "Idempotency-Key": "slow-key" };
    const [a, b] = await Promise.all([
      api("POST", `/v1/threads/${t.id}/turns`, { input: "one two three" }, h),
      api("POST", `/v1/threads/${t.id}/turns`, { input: "one two three" }, h),
    ]);
    expect(b.body.id).toBe(a.body.id);
    expect(mock.chatRequests()).toHaveLength(1);
  });

  it("a retried streaming turn replays the same turn's events", async () => {
    const t = await createThread();
    const h = { "Idempotency-Key": "stream-key" };
    const a = await new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: "hi you", stream: true }, h)).all();
    const b = await new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: "hi you", stream: true }, h)).all();
    expect(b.map((f) => f.data)).toEqual(a.map((f) => f.data));
    expect(mock.chatRequests()).toHaveLength(1);
  });

  it("a retried message append returns the same message", async () => {
    const t = await createThread();
    const h = { "Idempotency-Key": "msg-key" };
    const a = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "x" }, h);
    const b = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "x" }, h);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(1);
  });

  it("a retried thread creation without an id returns the same thread", async () => {
    const h = { "Idempotency-Key": `create-${Date.now()}` };
    const a = await api("POST", "/v1/threads", { metadata: { n: "1" } }, h);
    const b = await api("POST", "/v1/threads", { metadata: { n: "1" } }, h);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.id).toBe(a.body.id);
  });

  it("the same key with a different request is a 409 and creates nothing", async () => {
    const t = await createThread();
    const h = { "Idempotency-Key": "reused" };
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "x" }, h);
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "y" }, h);
    expect(r.status).toBe(409);
    expect(errorOf(r).code).toBe("idempotency_key_reused");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(1);
  });

  it("refuses an over-long key", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "x" }, { "Idempotency-Key": "k".repeat(300) });
    expect(r.status).toBe(400);
    await eventually(async () => (await api("GET", `/v1/threads/${t.id}`)).body.message_count === 0);
  });
});
