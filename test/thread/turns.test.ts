/**
 * The turn runner on its own: a real store and event log, and the mock
 * upstream reached through an injected fetch (no global fetch spy).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.ts";
import type { ThreadEvent } from "../../src/protocol/types.ts";
import { settingsOf } from "../../src/settings.ts";
import { upstreamFor } from "../../src/upstream/client.ts";
import { EventLog } from "../../src/thread/events.ts";
import type { ThreadStore } from "../../src/thread/store.ts";
import { TurnRunner } from "../../src/thread/turns.ts";
import { MockUpstream } from "../mock/upstream.ts";
import { withStore } from "./fresh.ts";

/** A runner on `store` whose upstream is `mock`, and the events it emitted. */
function runner(store: ThreadStore, mock: MockUpstream) {
  const events = new EventLog(store, () => turns.busy);
  const seen: ThreadEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const upstream = upstreamFor(env, async (input, init) => mock.handle(new Request(input, init)));
  const turns: TurnRunner = new TurnRunner({ store, events, settings: settingsOf(env), thread: () => store.thread(), touched: async () => {}, upstream: () => upstream });
  return { turns, seen };
}

describe("TurnRunner", () => {
  it("writes the input, calls the upstream once, writes the reply and announces each step in order", async () => {
    const mock = new MockUpstream();
    const r = await withStore(async (store) => {
      const { turns, seen } = runner(store, mock);
      const { done } = turns.start({ input: "hi there", params: { max_tokens: 50 } });
      // The input is written before anything is awaited.
      const inputBefore = store.message(1)?.content;
      const { result, error } = await done;
      return { inputBefore, result, error, types: seen.map((e) => e.type), reply: store.message(2)?.content };
    });
    expect(r.inputBefore).toBe("hi there");
    expect(r.error).toBeNull();
    expect(r.result.status).toBe("completed");
    expect(r.result.output?.content).toBe("echo(1): hi there");
    expect(r.reply).toBe("echo(1): hi there");
    expect(r.types[0]).toBe("turn.created");
    expect(r.types.slice(1, 4)).toEqual(["message.created", "turn.started", "message.created"]);
    expect(r.types).toContain("message.delta");
    expect(r.types.slice(-2)).toEqual(["message.completed", "turn.completed"]);
    expect(mock.chatRequests()).toHaveLength(1);
    expect(mock.chatRequests()[0]!.body).toMatchObject({ max_tokens: 50, stream: true });
  });

  it("writes a long input (more rows than one statement binds) whole and in order, counts it, and announces and replays every event", async () => {
    const mock = new MockUpstream();
    const input = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? "assistant" as const : "user" as const, content: `m${i}` }));
    const r = await withStore(async (store) => {
      const { turns, seen } = runner(store, mock);
      const events = new EventLog(store, () => false);
      const { result } = await turns.start({ input }).done;
      const replayed = events.replay(0)!;
      return { result, seen, replayed, stored: store.messagesPage({ order: "asc", limit: 100 }).map((m) => m.content), count: store.thread()!.message_count };
    });
    expect(r.stored).toEqual([...input.map((m) => m.content), "echo(30): m28"]);
    expect(r.count).toBe(31);
    expect(r.result.status).toBe("completed");
    // turn.created, 30 message.created, turn.started, the reply's message.created, its deltas, message.completed, turn.completed.
    expect(r.seen.slice(0, 31).map((e) => e.type)).toEqual(["turn.created", ...input.map(() => "message.created")]);
    expect(r.seen.map((e) => e.seq)).toEqual(r.seen.map((_, i) => i + 1));
    expect(r.replayed.map((e) => [e.seq, e.type])).toEqual(r.seen.map((e) => [e.seq, e.type]));
  });

  it("keeps the input and fails the turn with the mapped error when the upstream fails", async () => {
    const mock = new MockUpstream().fail({ kind: "cloudflare", status: 429, code: 3040, message: "Capacity temporarily exceeded" });
    const r = await withStore(async (store) => {
      const { turns } = runner(store, mock);
      const { result, error } = await turns.start({ input: "hello" }).done;
      return { status: result.status, error, input: store.message(1)?.content, reply: store.message(2) };
    });
    expect(r.status).toBe("failed");
    expect(r.error).toBeInstanceOf(ApiError);
    expect(r.error!.status).toBe(429);
    expect(r.input).toBe("hello");
    expect(r.reply).toBeNull();
  });

  it("runs turns one at a time in arrival order, and refuses a 'reject' turn while one is running", async () => {
    const mock = new MockUpstream({ chunkDelayMs: 5 });
    const r = await withStore(async (store) => {
      const { turns } = runner(store, mock);
      const first = turns.start({ input: "one" });
      const second = turns.start({ input: "two" });
      let refused: unknown = null;
      try {
        turns.start({ input: "three", strategy: "reject" });
      } catch (err) {
        refused = err;
      }
      const [a, b] = await Promise.all([first.done, second.done]);
      return { refused, a: a.result.output?.content, b: b.result.output?.content, prompts: mock.chatRequests().map((q) => q.body.messages.length) };
    });
    expect(r.refused).toBeInstanceOf(ApiError);
    expect((r.refused as ApiError).status).toBe(409);
    expect(r.a).toBe("echo(1): one");
    // The second turn saw the first turn's input and reply.
    expect(r.b).toBe("echo(3): two");
    expect(r.prompts).toEqual([1, 3]);
  });

  it("closes a queued turn as cancelled without calling the upstream for it", async () => {
    const mock = new MockUpstream({ chunkDelayMs: 5 });
    const r = await withStore(async (store) => {
      const { turns } = runner(store, mock);
      const first = turns.start({ input: "one" });
      const queued = turns.start({ input: "two" });
      const seq = store.unfinishedTurns().at(-1)!.seq;
      await turns.cancel(seq);
      await first.done;
      return { status: (await queued.done).result.status, calls: mock.chatRequests().length };
    });
    expect(r).toEqual({ status: "cancelled", calls: 1 });
  });
});
