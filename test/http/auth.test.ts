import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, threadStubFor, uniqueId, useMockUpstream } from "../helpers.ts";

useMockUpstream();
const as = (key: string) => ({ Authorization: `Bearer ${key}` });

describe("API keys", () => {
  it.each([
    ["no Authorization header", {}],
    ["a wrong key", as("sk-nope")],
    ["a malformed header", { Authorization: "Basic abc" }],
    ["a key with a suffix", as("sk-alice-x")],
  ])("answers %s with an OpenAI-shaped 401", async (_n, headers) => {
    const res = await exports.default.fetch("http://worker.test/v1/threads", { headers });
    expect(res.status).toBe(401);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
  });

  it("accepts a key configured by its sha256 digest", async () => {
    const r = await api("POST", "/v1/threads", {}, as("sk-carol"));
    expect(r.status).toBe(201);
  });

  it("guards every route, the unknown ones included, before anything is read or written", async () => {
    const id = uniqueId();
    for (const [method, path] of [["POST", "/v1/threads"], ["GET", `/v1/threads/${id}/messages`], ["POST", "/v1/responses"],
      ["POST", "/v1/conversations"], ["POST", "/v1/chat/completions"], ["GET", "/v1/models"], ["GET", "/v1/nope"]] as const) {
      const res = await exports.default.fetch(`http://worker.test${path}`, { method, body: method === "POST" ? JSON.stringify({ id }) : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await api("GET", `/v1/threads/${id}`)).status).toBe(404);
  });
});

describe("tenant isolation", () => {
  it("keeps each tenant's threads, messages, turns, streams and sockets invisible to the others (404, never 403)", async () => {
    const t = (await api("POST", "/v1/threads", { id: uniqueId("private") }, as("sk-alice"))).body;
    const turn = (await api("POST", `/v1/threads/${t.id}/turns`, { input: "secret" }, as("sk-alice"))).body;
    const bob = as("sk-bob");
    for (const [method, path, body] of [
      ["GET", `/v1/threads/${t.id}`], ["POST", `/v1/threads/${t.id}`, { metadata: { x: "y" } }], ["DELETE", `/v1/threads/${t.id}`],
      ["GET", `/v1/threads/${t.id}/messages`], ["POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "x" }],
      ["GET", `/v1/threads/${t.id}/messages/${turn.output.id}`], ["POST", `/v1/threads/${t.id}/turns`, { input: "x" }],
      ["GET", `/v1/threads/${t.id}/turns/${turn.id}`], ["POST", `/v1/threads/${t.id}/turns/${turn.id}/cancel`],
      ["GET", `/v1/threads/${t.id}/events?after=0`], ["POST", `/v1/threads/${t.id}/ws-tickets`], ["POST", `/v1/threads/${t.id}/fork`, {}],
      ["GET", `/v1/conversations/${t.id}`], ["GET", `/v1/conversations/${t.id}/items`],
    ] as [string, string, unknown?][]) {
      const r = await api(method, path, body, bob);
      expect(r.status, `${method} ${path}`).toBe(404);
      errorOf(r);
    }
    const ws = await exports.default.fetch(`http://worker.test/v1/threads/${t.id}/ws`, { headers: { Upgrade: "websocket", ...bob } });
    expect(ws.status).toBe(404);
    const bobsList = (await api("GET", "/v1/threads?limit=100", undefined, bob)).body.data.map((x: any) => x.id);
    expect(bobsList).not.toContain(t.id);
    // The same ID is free for bob: it is his own, empty thread.
    const mine = await api("POST", "/v1/threads", { id: t.id }, bob);
    expect(mine.status).toBe(201);
    expect(mine.body.message_count).toBe(0);
    expect((await api("GET", `/v1/threads/${t.id}`, undefined, as("sk-alice"))).body.message_count).toBe(2);
  });

  it("keeps responses private: another tenant can neither read nor continue them", async () => {
    const r = (await api("POST", "/v1/responses", { input: "mine" }, as("sk-alice"))).body;
    expect((await api("GET", `/v1/responses/${r.id}`, undefined, as("sk-bob"))).status).toBe(404);
    expect((await api("DELETE", `/v1/responses/${r.id}`, undefined, as("sk-bob"))).status).toBe(404);
    const cont = await api("POST", "/v1/responses", { input: "x", previous_response_id: r.id }, as("sk-bob"));
    expect(cont.status).toBe(400);
    expect(errorOf(cont).param).toBe("previous_response_id");
    expect((await api("GET", `/v1/responses/${r.id}`, undefined, as("sk-alice"))).status).toBe(200);
  });
});

describe("POST /v1/threads/{id}/ws-tickets", () => {
  const connect = (threadId: string, ticket: string) =>
    exports.default.fetch(`http://worker.test/v1/threads/${threadId}/ws?ticket=${ticket}`, { headers: { Upgrade: "websocket" } });

  it("issues a single-use ticket that opens the socket without the API key", async () => {
    const t = await createThread();
    const r = await api("POST", `/v1/threads/${t.id}/ws-tickets`);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ object: "thread.ws_ticket", ticket: expect.stringMatching(/^wst_/), expires_at: expect.any(Number) });
    expect(r.body.expires_at - Date.now() / 1000).toBeLessThanOrEqual(61);
    const first = await connect(t.id, r.body.ticket);
    expect(first.status).toBe(101);
    first.webSocket!.accept();
    first.webSocket!.close();
    const again = await connect(t.id, r.body.ticket);
    expect(again.status).toBe(401);
  });

  it("answers a forged ticket the same whether the thread exists or not (no oracle), waking nothing", async () => {
    const t = (await api("POST", "/v1/threads", { id: uniqueId("alices") }, as("sk-alice"))).body;
    const forge = (tenant: string, thread: string) =>
      `wst_${btoa(JSON.stringify({ t: tenant, h: thread, e: Date.now() + 30_000, n: "x" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.${"A".repeat(43)}`;
    const existing = await connect(t.id, forge("alice", t.id));
    const missing = await connect("no-such-thread", forge("alice", "no-such-thread"));
    expect(existing.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(await existing.text()).toBe(await missing.text());
  });

  it("refuses forged, expired and other threads' tickets", async () => {
    const t = await createThread();
    const other = await createThread();
    const r = (await api("POST", `/v1/threads/${t.id}/ws-tickets`)).body;
    expect((await connect(other.id, r.ticket)).status).toBe(401);
    expect((await connect(t.id, "wst_bG9jYWw_" + "a".repeat(32))).status).toBe(401);
    expect((await connect(t.id, "garbage")).status).toBe(401);
    const fresh = (await api("POST", `/v1/threads/${t.id}/ws-tickets`)).body;
    await runInDurableObject(threadStubFor(t.id), (_o, state) => {
      state.storage.sql.exec("UPDATE ws_tickets SET expires_at = 0");
    });
    expect((await connect(t.id, fresh.ticket)).status).toBe(401);
  });
});
