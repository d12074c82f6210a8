/** Turn calls through the HTTP API: cancelling a turn (running, queued, finished, unknown), and the three strategies. */
import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, eventually, post, SseReader, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

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
