import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, uniqueId, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

async function appendMany(threadId: string, n: number): Promise<any[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await api("POST", `/v1/threads/${threadId}/messages`, { role: i % 2 ? "assistant" : "user", content: `m${i}` });
    out.push(r.body);
  }
  return out;
}

describe("POST /v1/threads/{id}/messages", () => {
  it("appends a message without calling the upstream, in the documented shape", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "hello", metadata: { src: "sms" } });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^msg_/), object: "thread.message", thread_id: t.id, seq: 1, role: "user",
      content: "hello", status: "completed", turn_id: null, created_at: expect.any(Number), metadata: { src: "sms" }, usage: null,
    });
    expect(mock.chatRequests()).toHaveLength(0);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(1);
  });

  it("keeps tool calls and tool results with their IDs", async () => {
    const t = await createThread();
    const call = { id: "call_1", type: "function", function: { name: "weather", arguments: "{\"city\":\"Oslo\"}" } };
    const a = await api("POST", `/v1/threads/${t.id}/messages`, { role: "assistant", content: "", tool_calls: [call] });
    expect(a.status).toBe(201);
    expect(a.body.tool_calls).toEqual([call]);
    const tr = await api("POST", `/v1/threads/${t.id}/messages`, { role: "tool", content: "12C", tool_call_id: "call_1" });
    expect(tr.body.tool_call_id).toBe("call_1");
  });

  it.each([
    ["a bad role", { role: "robot", content: "x" }, "role"],
    ["a missing role", { content: "x" }, "role"],
    ["empty content", { role: "user", content: "" }, "content"],
    ["non-string content", { role: "user", content: 5 }, "content"],
    ["an unknown field", { role: "user", content: "x", name: "bob" }, "name"],
    ["a tool message without tool_call_id", { role: "tool", content: "x" }, "tool_call_id"],
    ["tool_calls on a user message", { role: "user", content: "x", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] }, "tool_calls"],
  ])("refuses %s with a 400 naming the field, and writes nothing", async (_n, body, param) => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/messages`, body);
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe(param);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(0);
  });

  it("refuses content over the limit with 413 and writes nothing", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "é".repeat(300_000) });
    expect(r.status).toBe(413);
    expect(errorOf(r).param).toBe("content");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(0);
  });

  it("answers 404 on an unknown thread", async () => {
    expect((await api("POST", `/v1/threads/${uniqueId()}/messages`, { role: "user", content: "x" })).status).toBe(404);
  });

  it("round-trips unusual text exactly", async () => {
    const t = await createThread();
    const text = "'; DROP TABLE messages; -- \u0000 😀 مرحبا \u202e z";
    const r = await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: text });
    expect((await api("GET", `/v1/threads/${t.id}/messages/${r.body.id}`)).body.content).toBe(text);
  });
});

describe("GET /v1/threads/{id}/messages", () => {
  it("lists an empty thread as an empty list", async () => {
    const t = await createThread();
    const r = await api("GET", `/v1/threads/${t.id}/messages`);
    expect(r.body).toEqual({ object: "list", data: [], first_id: null, last_id: null, has_more: false });
  });

  it("lists oldest first by default and pages with after until has_more is false", async () => {
    const t = await createThread();
    const made = await appendMany(t.id, 7);
    const seen: string[] = [];
    let after = "";
    for (let i = 0; i < 10; i++) {
      const r = await api("GET", `/v1/threads/${t.id}/messages?limit=3${after ? `&after=${after}` : ""}`);
      seen.push(...r.body.data.map((m: any) => m.id));
      expect(r.body.first_id).toBe(r.body.data[0]?.id ?? null);
      expect(r.body.last_id).toBe(r.body.data.at(-1)?.id ?? null);
      if (!r.body.has_more) break;
      after = r.body.last_id;
    }
    expect(seen).toEqual(made.map((m) => m.id));
  });

  it("has has_more false on a page that is exactly full", async () => {
    const t = await createThread();
    await appendMany(t.id, 3);
    const r = await api("GET", `/v1/threads/${t.id}/messages?limit=3`);
    expect(r.body.data).toHaveLength(3);
    expect(r.body.has_more).toBe(false);
  });

  it("returns an empty page after the last ID", async () => {
    const t = await createThread();
    const made = await appendMany(t.id, 2);
    const r = await api("GET", `/v1/threads/${t.id}/messages?after=${made[1].id}`);
    expect(r.body).toEqual({ object: "list", data: [], first_id: null, last_id: null, has_more: false });
  });

  it("lists newest first with order=desc, and before/after bound the range", async () => {
    const t = await createThread();
    const made = await appendMany(t.id, 6);
    const desc = await api("GET", `/v1/threads/${t.id}/messages?order=desc&limit=2`);
    expect(desc.body.data.map((m: any) => m.content)).toEqual(["m5", "m4"]);
    const next = await api("GET", `/v1/threads/${t.id}/messages?order=desc&limit=2&after=${desc.body.last_id}`);
    expect(next.body.data.map((m: any) => m.content)).toEqual(["m3", "m2"]);
    const between = await api("GET", `/v1/threads/${t.id}/messages?after=${made[1].id}&before=${made[4].id}`);
    expect(between.body.data.map((m: any) => m.content)).toEqual(["m2", "m3"]);
  });

  it("refuses a cursor from another thread", async () => {
    const a = await createThread();
    const b = await createThread();
    const [m] = await appendMany(a.id, 1);
    const r = await api("GET", `/v1/threads/${b.id}/messages?after=${m.id}`);
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe("after");
  });

  it.each(["limit=0", "limit=101", "order=sideways", "foo=bar"])("refuses %s with a 400", async (q) => {
    const t = await createThread();
    const r = await api("GET", `/v1/threads/${t.id}/messages?${q}`);
    expect(r.status).toBe(400);
    errorOf(r);
  });
});

describe("GET and DELETE /v1/threads/{id}/messages/{message_id}", () => {
  it("gets one message, deletes it, and then it is gone from the list", async () => {
    const t = await createThread();
    const made = await appendMany(t.id, 3);
    expect((await api("GET", `/v1/threads/${t.id}/messages/${made[1].id}`)).body).toEqual(made[1]);
    const del = await api("DELETE", `/v1/threads/${t.id}/messages/${made[1].id}`);
    expect(del.body).toEqual({ id: made[1].id, object: "thread.message.deleted", deleted: true });
    expect((await api("GET", `/v1/threads/${t.id}/messages/${made[1].id}`)).status).toBe(404);
    expect((await api("DELETE", `/v1/threads/${t.id}/messages/${made[1].id}`)).status).toBe(404);
    const list = await api("GET", `/v1/threads/${t.id}/messages`);
    expect(list.body.data.map((m: any) => m.content)).toEqual(["m0", "m2"]);
    expect((await api("GET", `/v1/threads/${t.id}`)).body.message_count).toBe(2);
    // A deleted message's ID still works as a cursor.
    const after = await api("GET", `/v1/threads/${t.id}/messages?after=${made[1].id}`);
    expect(after.body.data.map((m: any) => m.content)).toEqual(["m2"]);
  });

  it("answers 404 for IDs that are not this thread's", async () => {
    const a = await createThread();
    const b = await createThread();
    const [m] = await appendMany(a.id, 1);
    expect((await api("GET", `/v1/threads/${b.id}/messages/${m.id}`)).status).toBe(404);
    expect((await api("GET", `/v1/threads/${a.id}/messages/msg_nonsense`)).status).toBe(404);
    expect((await api("DELETE", `/v1/threads/${a.id}/messages/whatever`)).status).toBe(404);
  });
});
