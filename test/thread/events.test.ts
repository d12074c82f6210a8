import { describe, expect, it } from "vitest";
import type { ThreadEvent } from "../../src/protocol/types.ts";
import { EventLog, MAX_REPLAY } from "../../src/thread/events.ts";
import { messageId, messageShape } from "../../src/thread/shapes.ts";
import type { ThreadStore } from "../../src/thread/store.ts";
import { withStore } from "./fresh.ts";

/** A stored message (seq 1) and the ID its events name. */
function seedMessage(store: ThreadStore) {
  store.reserve({ messages: 1, turns: 0, counted: 1 });
  store.insertCounted([{ seq: 1, role: "assistant", content: "hello", status: "completed", turn: null, created_at: 1, tokens: 5,
    metadata: null, usage: null, extra: null }]);
  const t = store.thread()!;
  return { t, id: messageId(t.id_prefix, 1), message: messageShape(t, store.message(1)!) };
}

describe("EventLog", () => {
  it("gives consecutive seqs and replays stored events and buffered deltas alike, in order", async () => {
    const r = await withStore((store) => {
      const log = new EventLog(store, () => false);
      const { id, message } = seedMessage(store);
      log.emit({ type: "message.created", message });
      log.emit({ type: "message.delta", message_id: id, turn_id: "turn_x", delta: "hel" });
      log.emit({ type: "message.delta", message_id: id, turn_id: "turn_x", delta: "lo" });
      const live = log.replay(0)!.map((e) => [e.seq, e.type]);
      log.emit({ type: "message.completed", message }); // flushes the deltas first
      return { live, all: log.replay(0)!.map((e) => [e.seq, e.type]), fromTwo: log.replay(2)!.map((e) => e.seq), last: log.lastSeq() };
    });
    expect(r.live).toEqual([[1, "message.created"], [2, "message.delta"], [3, "message.delta"]]);
    expect(r.all).toEqual([[1, "message.created"], [2, "message.delta"], [3, "message.delta"], [4, "message.completed"]]);
    expect(r.fromTwo).toEqual([3, 4]);
    expect(r.last).toBe(4);
  });

  it("keeps its counter across a new log on the same storage (an object that woke again)", async () => {
    const r = await withStore((store) => {
      const { message } = seedMessage(store);
      new EventLog(store, () => false).emit({ type: "message.created", message });
      const woke = new EventLog(store, () => false);
      return { last: woke.lastSeq(), next: woke.emit({ type: "message.completed", message }).seq };
    });
    expect(r).toEqual({ last: 1, next: 2 });
  });

  it("cannot replay from a seq it never reached, nor across skipped seqs", async () => {
    const r = await withStore((store) => {
      const log = new EventLog(store, () => false);
      const { message } = seedMessage(store);
      log.emit({ type: "message.created", message });
      const ahead = log.replay(5);
      log.skip(10);
      log.emit({ type: "message.completed", message });
      return { ahead, acrossGap: log.replay(0), afterGap: log.replay(11)!.map((e) => e.seq), last: log.lastSeq() };
    });
    expect(r.ahead).toBeNull();
    expect(r.acrossGap).toBeNull();
    expect(r.afterGap).toEqual([12]);
    expect(r.last).toBe(12);
  });

  it("refuses a replay longer than MAX_REPLAY events", async () => {
    const r = await withStore((store) => {
      const log = new EventLog(store, () => false);
      const { message } = seedMessage(store);
      for (let i = 0; i <= MAX_REPLAY; i++) log.emit({ type: "message.completed", message });
      return { full: log.replay(0), most: log.replay(1)!.length };
    });
    expect(r.full).toBeNull();
    expect(r.most).toBe(MAX_REPLAY);
  });

  it("tells listeners every event, and a removed listener nothing more", async () => {
    const r = await withStore((store) => {
      const log = new EventLog(store, () => false);
      const { message } = seedMessage(store);
      const seen: ThreadEvent[] = [];
      const off = log.subscribe((e) => seen.push(e));
      log.emit({ type: "message.created", message });
      off();
      log.emit({ type: "message.completed", message });
      return seen.map((e) => e.seq);
    });
    expect(r).toEqual([1]);
  });
});
