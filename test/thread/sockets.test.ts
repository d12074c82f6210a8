import { evictDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, AUTH, connectSocket, createThread, eventually, threadStubFor, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

describe("GET /v1/threads/{id}/ws", () => {
  it("starts with a snapshot of the thread and its newest page of messages only", async () => {
    const t = await createThread();
    for (let i = 0; i < 60; i++) await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: `m${i}` });
    const c = await connectSocket(t.id);
    const snap = await c.waitFor((f) => f.type === "thread.snapshot");
    expect(snap.thread).toMatchObject({ id: t.id, message_count: 60 });
    expect(snap.messages).toHaveLength(50);
    expect(snap.messages[0].content).toBe("m10");
    expect(snap.messages.at(-1).content).toBe("m59");
    expect(snap.has_more).toBe(true);
    expect(snap.seq).toBe(60);
    c.ws.close();
  });

  it("sends every delta of a turn one socket started to both sockets, and acknowledges the request", async () => {
    const t = await createThread();
    const a = await connectSocket(t.id);
    const b = await connectSocket(t.id);
    a.send({ type: "turn.create", request_id: "r1", input: "hello both of you" });
    const ack = await a.waitFor((f) => f.type === "turn.accepted");
    expect(ack).toMatchObject({ request_id: "r1", turn: { status: "queued" } });
    for (const c of [a, b]) await c.waitFor((f) => f.type === "turn.completed");
    const deltas = (c: typeof a) => c.frames.filter((f) => f.type === "message.delta").map((f) => f.delta).join("");
    expect(deltas(a)).toBe("echo(1): hello both of you");
    expect(deltas(b)).toBe(deltas(a));
    const events = (c: typeof a) => c.frames.filter((f) => typeof f.seq === "number" && f.type !== "thread.snapshot");
    expect(events(b).map((f) => f.seq)).toEqual(events(a).map((f) => f.seq));
    expect(b.frames.some((f) => f.type === "turn.accepted")).toBe(false);
  });

  it("delivers REST-started turns to every socket", async () => {
    const t = await createThread();
    const a = await connectSocket(t.id);
    const b = await connectSocket(t.id);
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "from rest" });
    for (const c of [a, b]) {
      const done = await c.waitFor((f) => f.type === "message.completed" && f.message.role === "assistant");
      expect(done.message).toEqual(r.body.output);
    }
  });

  it("replays the events after `after` on connect instead of a snapshot", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "one two" });
    const c = await connectSocket(t.id, "?after=2");
    await c.waitFor((f) => f.type === "turn.completed");
    expect(c.types()).not.toContain("thread.snapshot");
    expect(c.frames[0].seq).toBe(3);
    expect(c.frames.at(-1).turn.id).toBe(r.body.id);
  });

  it("answers bad frames with an error frame and keeps the socket open", async () => {
    const t = await createThread();
    const c = await connectSocket(t.id);
    c.send("not json");
    c.send({ type: "dance", request_id: "x1" });
    c.send({ type: "turn.create", request_id: "x2" });
    c.send({ type: "turn.create", request_id: "x3", input: "" });
    c.send({ type: "turn.cancel", request_id: "x4", turn_id: "turn_nope" });
    c.send({ type: "turn.create", request_id: "x5", input: "x".repeat(1_100_000) });
    await eventually(() => c.frames.filter((f) => f.type === "error").length === 6);
    const errors = c.frames.filter((f) => f.type === "error");
    // An over-size frame is refused unread, so its request_id is not known.
    expect(errors.map((e) => e.request_id)).toEqual([null, "x1", "x2", "x3", "x4", null]);
    expect(errors[2].error).toMatchObject({ type: "invalid_request_error", param: "input" });
    expect(errors[4].error.type).toBe("not_found_error");
    expect(errors[5].error.type).toBe("request_too_large");
    c.send({ type: "ping" });
    await c.waitFor((f) => f.type === "pong");
    expect(c.closed).toBe(false);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(0);
  });

  it("cancels a running turn with turn.cancel, keeping the partial reply", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 10;
    const c = await connectSocket(t.id);
    c.send({ type: "turn.create", input: Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ") });
    const started = await c.waitFor((f) => f.type === "message.delta");
    c.send({ type: "turn.cancel", request_id: "c1", turn_id: started.turn_id });
    const result = await c.waitFor((f) => f.type === "turn.cancel.result");
    expect(result.turn.status).toBe("cancelled");
    const partial = await c.waitFor((f) => f.type === "message.completed");
    expect(partial.message.status).toBe("incomplete");
  });

  it("treats a repeated request_id as the same turn: nothing new is created", async () => {
    const t = await createThread();
    const c = await connectSocket(t.id);
    c.send({ type: "turn.create", request_id: "same", input: "once" });
    c.send({ type: "turn.create", request_id: "same", input: "once" });
    await eventually(() => c.frames.filter((f) => f.type === "turn.accepted").length === 2);
    const acks = c.frames.filter((f) => f.type === "turn.accepted");
    expect(acks[1].turn.id).toBe(acks[0].turn.id);
    await c.waitFor((f) => f.type === "turn.completed");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(2);
    expect(mock.chatRequests()).toHaveLength(1);
  });

  it("keeps hibernated sockets: after eviction they still receive the next turn", async () => {
    const t = await createThread();
    const a = await connectSocket(t.id);
    const b = await connectSocket(t.id);
    await a.waitFor((f) => f.type === "thread.snapshot");
    await evictDurableObject(threadStubFor(t.id));
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "after eviction" });
    for (const c of [a, b]) {
      const done = await c.waitFor((f) => f.type === "message.completed" && f.message.role === "assistant");
      expect(done.message.content).toBe("echo(1): after eviction");
    }
    a.send({ type: "turn.create", input: "still talking" });
    await b.waitFor((f) => f.type === "message.completed" && f.message.content === "echo(3): still talking");
  });

  it("closes sockets when the thread is deleted", async () => {
    const t = await createThread();
    const c = await connectSocket(t.id);
    await api("DELETE", `/v1/threads/${t.id}`);
    await eventually(() => c.closed);
  });

  it("refuses a plain GET and unknown threads with OpenAI-shaped errors", async () => {
    const t = await createThread();
    expect((await api("GET", `/v1/threads/${t.id}/ws`)).status).toBe(400);
    const res = await exports.default.fetch(`http://worker.test/v1/threads/nope-${Date.now()}/ws`, { headers: { Upgrade: "websocket", ...AUTH } });
    expect(res.status).toBe(404);
    expect((await res.json() as any).error.type).toBe("not_found_error");
  });
});
