import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, get, post, SseReader, useMockUpstream } from "../helpers.ts";

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
