import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, eventually, get, post, SseReader, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

describe("GET /v1/threads/{id}/events", () => {
  it("resumes a dropped stream: every delta exactly once, then the final message", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 3;
    const first = new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: words(40), stream: true }));
    const seen = await first.until((f) => f.filter((x) => x.event === "message.delta").length >= 5);
    await first.cancel();
    const lastId = seen.at(-1)!.id!;

    const rest = await new SseReader(await get(`/v1/threads/${t.id}/events?after=${lastId}`)).all();
    const all = [...seen, ...rest];
    const seqs = all.map((f) => Number(f.id));
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i)); // gap-free, no duplicates
    const text = all.filter((f) => f.event === "message.delta").map((f) => f.data.delta).join("");
    const final = all.find((f) => f.event === "message.completed")!.data.message;
    expect(text).toBe(final.content);
    expect(final.content).toBe(`echo(1): ${words(40)}`);
    expect(rest.at(-1)!.event).toBe("turn.completed");
  });

  it("honours Last-Event-ID like after", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 3;
    const first = new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: words(30), stream: true }));
    const seen = await first.until((f) => f.length >= 8);
    await first.cancel();
    const rest = await new SseReader(await get(`/v1/threads/${t.id}/events`, { "Last-Event-ID": seen.at(-1)!.id! })).all();
    expect(Number(rest[0]!.id)).toBe(Number(seen.at(-1)!.id) + 1);
    expect(rest.at(-1)!.event).toBe("turn.completed");
  });

  it("replays a finished turn from any seq, rebuilding coalesced deltas exactly", async () => {
    const t = await createThread();
    const frames = await new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: words(100), stream: true })).all();
    for (const cut of [0, 3, 10, 70, frames.length - 2]) {
      const after = Number(frames[cut]!.id);
      const replay = await new SseReader(await get(`/v1/threads/${t.id}/events?after=${after}`)).all();
      expect(replay.map((f) => [f.event, f.id, f.data])).toEqual(frames.slice(cut + 1).map((f) => [f.event, f.id, f.data]));
    }
  });

  it("returns at once with nothing when the thread is idle and nothing is newer", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "x" });
    const frames = await new SseReader(await get(`/v1/threads/${t.id}/events`)).all();
    expect(frames).toEqual([]);
  });

  it("includes events caused by REST calls: appended and deleted messages, thread updates", async () => {
    const t = await createThread();
    const kept = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "kept" });
    const m = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "hi" });
    await api("POST", `/v1/threads/${t.id}`, { metadata: { k: "v" } });
    await api("DELETE", `/v1/threads/${t.id}/messages/${m.body.id}`);
    const frames = await new SseReader(await get(`/v1/threads/${t.id}/events?after=0`)).all();
    // A deleted message's content is gone, so its message.created is not replayed; its deletion is.
    expect(frames.map((f) => f.event)).toEqual(["message.created", "thread.updated", "message.deleted"]);
    expect(frames[0]!.data.message).toEqual(kept.body);
    expect(frames[1]!.data.thread.metadata).toEqual({ k: "v" });
    expect(frames[2]!.data.message_id).toBe(m.body.id);
  });

  it.each(["after=-1", "after=abc", "after=", "colour=red"])("refuses %s with a 400", async (q) => {
    const t = await createThread();
    const r = await api("GET", `/v1/threads/${t.id}/events?${q}`);
    expect(r.status).toBe(400);
    errorOf(r);
  });
});

describe("POST /v1/threads/{id}/turns/{turn_id}/cancel", () => {
  it("aborts the upstream, keeps the partial reply as incomplete, and the turn is cancelled", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 10;
    const stream = new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: words(200), stream: true }));
    const frames = await stream.until((f) => f.filter((x) => x.event === "message.delta").length >= 3);
    const turnId = frames[0]!.data.turn.id;
    const r = await api("POST", `/v1/threads/${t.id}/turns/${turnId}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: turnId, status: "cancelled" });
    const rest = await stream.all();
    expect(rest.at(-1)!.event).toBe("turn.cancelled");
    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    expect(msgs[1]).toMatchObject({ role: "assistant", status: "incomplete" });
    expect(msgs[1].content.length).toBeGreaterThan(0);
    expect(`echo(1): ${words(200)}`.startsWith(msgs[1].content)).toBe(true);
    expect(msgs[1].content.length).toBeLessThan(`echo(1): ${words(200)}`.length);
    // The upstream request was aborted, not read to its end.
    await eventually(() => mock.streamsCancelled === 1);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.status).toBe("idle");
  });

  it("is a no-op answer on a finished turn", async () => {
    const t = await createThread();
    const done = await api("POST", `/v1/threads/${t.id}/turns`, { input: "x" });
    const r = await api("POST", `/v1/threads/${t.id}/turns/${done.body.id}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("completed");
  });

  it("cancels a queued turn before it runs; it never reaches the upstream", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 10;
    const running = post(`/v1/threads/${t.id}/turns`, { input: words(30), stream: true });
    const queued = new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: "later", stream: true }));
    const [created] = await queued.until((f) => f.length >= 1);
    const r = await api("POST", `/v1/threads/${t.id}/turns/${created!.data.turn.id}/cancel`);
    expect(r.body.status).toBe("cancelled");
    expect((await queued.all()).at(-1)!.event).toBe("turn.cancelled");
    await (await running).text();
    expect(mock.chatRequests()).toHaveLength(1);
  });

  it("answers 404 for an unknown turn", async () => {
    const t = await createThread();
    expect((await api("POST", `/v1/threads/${t.id}/turns/turn_nope/cancel`)).status).toBe(404);
  });
});

describe("turn strategies", () => {
  it("enqueue: 50 concurrent turns give 50 user and 50 assistant messages in strict alternation", async () => {
    const t = await createThread({ model: "@cf/meta/llama-3.1-8b-instruct-fast" });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => api("POST", `/v1/threads/${t.id}/turns`, { input: `q${i}` })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const msgs: any[] = [];
    let after = "";
    for (let i = 0; i < 10; i++) {
      const page = await api("GET", `/v1/threads/${t.id}/messages?limit=100${after}`);
      msgs.push(...page.body.data);
      if (!page.body.has_more) break;
      after = `&after=${page.body.last_id}`;
    }
    expect(msgs).toHaveLength(100);
    msgs.forEach((m, i) => expect(m.role).toBe(i % 2 ? "assistant" : "user"));
    for (let i = 0; i < 100; i += 2) expect(msgs[i + 1].content).toBe(`echo(${i + 1}): ${msgs[i].content}`);
  });

  it("reject: 20 concurrent turns give one success and 19 409s", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 20;
    const results = await Promise.all(Array.from({ length: 20 }, () => api("POST", `/v1/threads/${t.id}/turns`, { input: "a b c", strategy: "reject" })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(errorOf(r).type).toBe("conflict_error");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(2);
  });

  it("interrupt: cancels the running turn, keeps its partial reply, then runs the new one", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 10;
    const first = new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: words(100), stream: true }));
    await first.until((f) => f.filter((x) => x.event === "message.delta").length >= 2);
    const second = await api("POST", `/v1/threads/${t.id}/turns`, { input: "now", strategy: "interrupt" });
    expect(second.body.status).toBe("completed");
    expect((await first.all()).at(-1)!.event).toBe("turn.cancelled");
    const msgs = (await api("GET", `/v1/threads/${t.id}/messages`)).body.data;
    expect(msgs.map((m: any) => [m.role, m.status])).toEqual([
      ["user", "completed"], ["assistant", "incomplete"], ["user", "completed"], ["assistant", "completed"],
    ]);
    // The new turn's prompt included the interrupted partial reply.
    expect(mock.chatRequests()[1]!.body.messages[1]).toEqual({ role: "assistant", content: msgs[1].content });
  });
});

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

describe("resuming from a seq the thread never reached", () => {
  it("is refused over SSE rather than answered with silence", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "one" });
    const r = await api("GET", `/v1/threads/${t.id}/events?after=999`);
    expect(r.status).toBe(400);
    expect(errorOf(r).code).toBe("resume_window_expired");
  });
});

describe("GET /v1/threads/{id}/events over several finished turns", () => {
  it("replays them all, not only up to the first turn's end", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "one" });
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "two" });
    const frames = await new SseReader(await get(`/v1/threads/${t.id}/events?after=0`)).all();
    expect(frames.filter((f) => f.event === "turn.completed")).toHaveLength(2);
    expect(frames.at(-1)!.data.turn.status).toBe("completed");
  });
});

describe("replay is bounded", () => {
  it("refuses to replay more than a few megabytes of messages: that is what the message list is for", async () => {
    const t = await createThread();
    for (let i = 0; i < 5; i++) await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: `${i}`.repeat(450_000) });
    const r = await api("GET", `/v1/threads/${t.id}/events?after=0`);
    expect(r.status).toBe(400);
    expect(errorOf(r).code).toBe("resume_window_expired");
    const recent = await new SseReader(await get(`/v1/threads/${t.id}/events?after=3`)).all();
    expect(recent.map((f) => f.data.message.content[0])).toEqual(["3", "4"]);
  });
});

describe("deleting a thread while it streams", () => {
  it("ends every stream with thread.deleted, and old followers never see a new thread of the same ID", async () => {
    const t = await createThread();
    mock.chunkDelayMs = 10;
    const turn = new SseReader(await post(`/v1/threads/${t.id}/turns`, { input: words(200), stream: true }));
    await turn.until((f) => f.some((x) => x.event === "message.delta"));
    const follower = new SseReader(await get(`/v1/threads/${t.id}/events`));
    const response = new SseReader(await post("/v1/responses", { input: words(50), stream: true }));
    await response.until((f) => f.length >= 2);
    expect((await api("DELETE", `/v1/threads/${t.id}`)).status).toBe(200);
    const turnFrames = await turn.all();
    expect(turnFrames.at(-1)!.event).toBe("thread.deleted");
    const followed = await follower.all();
    expect(followed.at(-1)!.event).toBe("thread.deleted");
    await api("POST", "/v1/threads", { id: t.id });
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "new life" });
    expect(followed.some((f) => f.data?.message?.content === "new life")).toBe(false);
    expect((await response.all()).at(-1)!.event).toBe("response.completed");
  });
});
