import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, uniqueId, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

async function fill(threadId: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await api("POST", `/v1/threads/${threadId}/messages`, { role: i % 2 ? "assistant" : "user", content: `m${i}` })).body.id);
  return ids;
}

async function contents(threadId: string): Promise<string[]> {
  const out: string[] = [];
  let after = "";
  for (let i = 0; i < 20; i++) {
    const page = (await api("GET", `/v1/threads/${threadId}/messages?limit=100${after}`)).body;
    out.push(...page.data.map((m: any) => m.content));
    if (!page.has_more) break;
    after = `&after=${page.last_id}`;
  }
  return out;
}

describe("POST /v1/threads/{id}/fork", () => {
  it("copies the whole history, in order, across several pages, into an independent thread", async () => {
    const src = await createThread({ instructions: "keep me", params: { temperature: 0.5 }, metadata: { a: "1" } });
    await fill(src.id, 450);
    const r = await api("POST", `/v1/threads/${src.id}/fork`, {});
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ object: "thread", instructions: "keep me", params: { temperature: 0.5 }, metadata: { a: "1" }, message_count: 450 });
    expect(r.body.id).not.toBe(src.id);
    expect(await contents(r.body.id)).toEqual(Array.from({ length: 450 }, (_, i) => `m${i}`));

    await api("POST", `/v1/threads/${r.body.id}/turns`, { input: "only in the fork" });
    expect((await api("GET", `/v1/threads/${src.id}`)).body.message_count).toBe(450);
    expect(mock.chatRequests()[0]!.body.messages.at(-2)).toEqual({ role: "assistant", content: "m449" });
  });

  it("stops at message_id, takes a chosen id and metadata, and answers a retried key with the same fork", async () => {
    const src = await createThread();
    const ids = await fill(src.id, 6);
    const id = uniqueId("fork");
    const h = { "Idempotency-Key": `fork-${id}` };
    const a = await api("POST", `/v1/threads/${src.id}/fork`, { id, message_id: ids[2], metadata: { branch: "b" } }, h);
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ id, metadata: { branch: "b" }, message_count: 3 });
    const b = await api("POST", `/v1/threads/${src.id}/fork`, { id, message_id: ids[2], metadata: { branch: "b" } }, h);
    expect(b.body.message_count).toBe(3);
    expect(await contents(id)).toEqual(["m0", "m1", "m2"]);
    expect((await api("POST", `/v1/threads/${src.id}/fork`, { id })).status).toBe(409);
  });

  it("refuses what is not there: unknown source, another thread's message, bad body", async () => {
    const src = await createThread();
    const other = await createThread();
    const [m] = await fill(other.id, 1);
    expect((await api("POST", `/v1/threads/${uniqueId("none")}/fork`, {})).status).toBe(404);
    const foreign = await api("POST", `/v1/threads/${src.id}/fork`, { message_id: m });
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign).param).toBe("message_id");
    expect((await api("POST", `/v1/threads/${src.id}/fork`, { colour: "red" })).status).toBe(400);
  });
});
