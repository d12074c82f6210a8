import { describe, expect, it } from "vitest";
import type { MessageRow } from "../../src/thread/store.ts";
import { withStore } from "./fresh.ts";

function message(seq: number, over: Partial<MessageRow> = {}): MessageRow {
  return { seq, role: "user", content: `m${seq}`, status: "completed", turn: null, created_at: 1, tokens: 3,
    metadata: null, usage: null, extra: null, ...over };
}

describe("ThreadStore", () => {
  it("reserves message seqs in blocks without reuse, and counts the messages reserved for", async () => {
    const r = await withStore((s) => {
      const a = s.reserve({ messages: 3, turns: 0, counted: 3 }).first;
      const b = s.reserve({ messages: 2, turns: 0, counted: 2 }).first;
      s.insertCounted([0, 1, 2, 3, 4].map((i) => message(a + i)));
      return { a, b, count: s.thread()!.message_count };
    });
    expect(r).toEqual({ a: 1, b: 4, count: 5 });
  });

  it("pages by open seq bounds in either order, one row past the limit, and leaves branch rows out unless asked", async () => {
    const r = await withStore((s) => {
      s.reserve({ messages: 6, turns: 0, counted: 5 });
      s.insertCounted([1, 2, 3, 4, 5, 6].map((i) => message(i, i === 4 ? { branch: 1 } : {})));
      const seqs = (rows: MessageRow[]) => rows.map((m) => m.seq);
      return {
        asc: seqs(s.messagesPage({ above: 1, below: 6, order: "asc", limit: 2 })),
        desc: seqs(s.messagesPage({ order: "desc", limit: 10 })),
        branches: seqs(s.messagesPage({ above: 2, below: 5, order: "asc", limit: 10, withBranches: true })),
      };
    });
    expect(r.asc).toEqual([2, 3, 5]);
    expect(r.desc).toEqual([6, 5, 3, 2, 1]);
    expect(r.branches).toEqual([3, 4]);
  });

  it("deletes a message once and keeps its seq unused", async () => {
    const r = await withStore((s) => {
      s.reserve({ messages: 1, turns: 0, counted: 1 });
      s.insertCounted([message(1)]);
      return { first: s.deleteMessage(1), again: s.deleteMessage(1), gone: s.message(1), next: s.reserve({ messages: 1, turns: 0, counted: 0 }).first };
    });
    expect(r).toEqual({ first: true, again: false, gone: null, next: 2 });
  });

  it("takes a ticket once, and never after it expired", async () => {
    const r = await withStore((s) => {
      s.insertTicket("h1", 2_000);
      s.insertTicket("h2", 1_000);
      return [s.takeTicket("h1", 1_500), s.takeTicket("h1", 1_500), s.takeTicket("h2", 1_500), s.takeTicket("nope", 0)];
    });
    expect(r).toEqual([true, false, false, false]);
  });
});
