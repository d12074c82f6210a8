import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildPrompt, threadHistory } from "../../src/thread/context.ts";
import { ThreadStore } from "../../src/thread/store.ts";
import { estimateTokens } from "../../src/upstream/tokens.ts";
import { api, createThread, threadStubFor, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

/** Seeds n alternating user/assistant messages straight into the object's storage (seeding is not under test). */
async function seed(threadId: string, n: number, content: (i: number) => string, role?: (i: number) => string) {
  await runInDurableObject(threadStubFor(threadId), (_obj, state) => {
    const sql = state.storage.sql;
    const first = sql.exec<{ s: number }>("SELECT next_seq AS s FROM thread").one().s;
    state.storage.transactionSync(() => {
      for (let i = 0; i < n; i++) {
        const text = content(i);
        sql.exec(
          "INSERT INTO messages (seq, role, content, status, turn, created_at, tokens) VALUES (?, ?, ?, 'completed', NULL, 0, ?)",
          first + i, role?.(i) ?? (i % 2 ? "assistant" : "user"), text, estimateTokens(text),
        );
      }
      sql.exec("UPDATE thread SET next_seq = ?, message_count = message_count + ?", first + n, n);
    });
  });
  // Written behind the object's back: restart it, as a live one keeps its thread row cached (src/thread/store.ts).
  await evictDurableObject(threadStubFor(threadId));
}

describe("context builder", () => {
  it("sends a 5,000-message thread as a prompt that fits an 8k window and ends with the newest turn", async () => {
    const t = await createThread({ model: "@cf/meta/llama-3.1-8b-instruct", instructions: "Stay on topic." });
    await seed(t.id, 5_000, (i) => `message number ${i} ` + "lorem ipsum dolor sit amet ".repeat(3));
    const r = await api("POST", `/v1/threads/${t.id}/turns`, { input: "the newest question" });
    expect(r.status).toBe(200);

    const sent = mock.chatRequests()[0]!.body;
    const msgs: { role: string; content: string }[] = sent.messages;
    const promptTokens = msgs.reduce((n, m) => n + estimateTokens(m.content), 0);
    expect(promptTokens + sent.max_tokens).toBeLessThanOrEqual(7_968);
    expect(msgs.length).toBeLessThan(5_000);
    expect(msgs.length).toBeGreaterThan(50); // it used the window, not a token few
    expect(msgs[0]).toEqual({ role: "system", content: "Stay on topic." });
    expect(msgs.at(-1)).toEqual({ role: "user", content: "the newest question" });
    expect(msgs.at(-2)!.content).toMatch(/^message number 4999 /);
    // Contiguous: the newest history, nothing skipped.
    const numbers = msgs.slice(1, -1).map((m) => Number(/number (\d+)/.exec(m.content)![1]));
    numbers.forEach((n, i) => i > 0 && expect(n).toBe(numbers[i - 1]! + 1));
  });

  it("keeps a thread's opening system messages (its system prompt) however long the history grows", async () => {
    const t = await createThread({ model: "@cf/meta/llama-3.1-8b-instruct" });
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "system", content: "You are a pirate." });
    await seed(t.id, 3_000, (i) => `filler ${i} ` + "y".repeat(80));
    await api("POST", `/v1/threads/${t.id}/turns`, { input: "ahoy?" });
    const msgs = mock.chatRequests()[0]!.body.messages;
    expect(msgs[0]).toEqual({ role: "system", content: "You are a pirate." });
    expect(msgs[1].content).not.toMatch(/^filler 0 /);
    expect(msgs.at(-1)).toEqual({ role: "user", content: "ahoy?" });
    expect(msgs.filter((m: any) => m.content === "You are a pirate.")).toHaveLength(1);
  });

  it("fills a large window with more history than a small one", async () => {
    const small = await createThread({ model: "@cf/meta/llama-3.1-8b-instruct" });
    const large = await createThread({ model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast" });
    for (const t of [small, large]) await seed(t.id, 2_000, (i) => `m${i} ` + "x".repeat(100));
    await api("POST", `/v1/threads/${small.id}/turns`, { input: "q" });
    await api("POST", `/v1/threads/${large.id}/turns`, { input: "q" });
    const [a, b] = mock.chatRequests();
    expect(b!.body.messages.length).toBeGreaterThan(2 * a!.body.messages.length);
  });

  it("never starts the prompt with a tool result whose call was cut off", async () => {
    const t = await createThread();
    const plan = await runInDurableObject(threadStubFor(t.id), (_obj, state) => {
      const sql = state.storage.sql;
      const rows: [string, string | null][] = [
        ["user", null],
        ["assistant", JSON.stringify({ tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] })],
        ["tool", JSON.stringify({ tool_call_id: "c1" })],
        ["tool", JSON.stringify({ tool_call_id: "c1" })],
        ["user", null],
        ["assistant", null],
      ];
      // Every message costs 10 tokens, so a budget of 35 fits the newest three: tool, user, assistant.
      rows.forEach(([role, extra], i) => sql.exec(
        "INSERT INTO messages (seq, role, content, status, created_at, tokens, extra) VALUES (?, ?, ?, 'completed', 0, 10, ?)",
        i + 1, role, `${role} ${i + 1}`, extra));
      const store = new ThreadStore(sql);
      return {
        cut: buildPrompt(threadHistory(store, 7), { instructions: null, budget: 35 }),
        whole: buildPrompt(threadHistory(store, 7), { instructions: null, budget: 60 }),
      };
    });
    expect(plan.cut.messages.map((m) => m.content)).toEqual(["user 5", "assistant 6"]);
    expect(plan.whole.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool", "user", "assistant"]);
    expect(plan.whole.messages[1]).toMatchObject({ tool_calls: [{ id: "c1" }] });
    expect(plan.whole.messages[2]).toMatchObject({ tool_call_id: "c1" });
  });
});

describe("context builder and tool calls (issue #10)", () => {
  /** Plans a prompt over rows of 10 tokens each, stored straight into a fresh thread. */
  async function planOver(rows: [string, object | null][], budget: number) {
    const t = await createThread();
    return runInDurableObject(threadStubFor(t.id), (_obj, state) => {
      const sql = state.storage.sql;
      rows.forEach(([role, extra], i) => sql.exec(
        "INSERT INTO messages (seq, role, content, status, created_at, tokens, extra) VALUES (?, ?, ?, 'completed', 0, 10, ?)",
        i + 1, role, role === "assistant" && extra ? "" : `${role} ${i + 1}`, extra ? JSON.stringify(extra) : null));
      return buildPrompt(threadHistory(new ThreadStore(sql), rows.length + 1), { instructions: null, budget });
    });
  }
  const call = (id: string) => ({ id, type: "function", function: { name: "f", arguments: "{}" } });

  it("never splits a call from its results: when the call does not fit, its results are not sent either", async () => {
    const rows: [string, object | null][] = [
      ["user", null], ["assistant", { tool_calls: [call("c1")] }], ["tool", { tool_call_id: "c1" }], ["user", null],
    ];
    // 25 tokens: the newest user message and the tool result would fit, the call with it would not.
    const cut = await planOver(rows, 25);
    expect(cut.messages.map((m) => m.role)).toEqual(["user"]);
    expect(cut.truncated).toBe(true);
    const whole = await planOver(rows, 40);
    expect(whole.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(whole.truncated).toBe(false);
  });

  it("sends a call only with its result: an unanswered call (abandoned by interrupt) is left out of its message", async () => {
    const plan = await planOver([
      ["user", null], ["assistant", { tool_calls: [call("c1"), call("c2")] }], ["tool", { tool_call_id: "c1" }], ["user", null],
      ["assistant", { tool_calls: [call("c3")] }], ["user", null],
    ], 100);
    expect(plan.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "user", "user"]);
    expect((plan.messages[1] as any).tool_calls.map((c: any) => c.id)).toEqual(["c1"]);
  });
});
