import { describe, expect, it } from "vitest";
import { api, createThread, errorOf, eventually, uniqueId, useMockUpstream } from "../helpers.ts";

useMockUpstream();

describe("POST /v1/threads", () => {
  it("creates a thread with a client-chosen ID and the documented shape", async () => {
    const id = uniqueId("chosen");
    const r = await api("POST", "/v1/threads", {
      id, model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast", instructions: "Be brief.",
      metadata: { user: "42" }, params: { temperature: 0.2, max_tokens: 300 },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id, object: "thread", created_at: expect.any(Number), updated_at: expect.any(Number),
      model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast", instructions: "Be brief.", metadata: { user: "42" },
      params: { temperature: 0.2, max_tokens: 300 }, message_count: 0, usage: { input_tokens: 0, output_tokens: 0 },
      status: "idle", expires_after: null,
    });
    expect(Math.abs(r.body.created_at - Date.now() / 1000)).toBeLessThan(5);
  });

  it("generates an ID and uses the default model when none is given", async () => {
    const r = await api("POST", "/v1/threads", {});
    expect(r.status).toBe(201);
    expect(r.body.id).toMatch(/^thread_[a-z2-7]{24}$/);
    expect(r.body.model).toBe("@cf/meta/llama-3.1-8b-instruct");
    expect(r.body.instructions).toBeNull();
  });

  it("accepts an empty body as no options", async () => {
    const res = await api("POST", "/v1/threads");
    expect(res.status).toBe(201);
  });

  it("answers 409 for an ID that exists, and leaves the existing thread as it was", async () => {
    const t = await createThread({ instructions: "first" });
    const r = await api("POST", "/v1/threads", { id: t.id, instructions: "second" });
    expect(r.status).toBe(409);
    expect(errorOf(r).type).toBe("conflict_error");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.instructions).toBe("first");
  });

  it.each([
    ["an unknown field", { id: "ok-id", colour: "red" }, "colour"],
    ["a bad ID", { id: "has space" }, "id"],
    ["a too-long ID", { id: "x".repeat(129) }, "id"],
    ["an ID of dots only (a URL could never reach it)", { id: ".." }, "id"],
    ["a wrong type", { model: 7 }, "model"],
    ["a bad param", { params: { temperature: 9 } }, "params.temperature"],
    ["an unknown param", { params: { tempratur: 1 } }, "params.tempratur"],
    ["too many metadata pairs", { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, "metadata"],
    ["a metadata value over 512 characters", { metadata: { k: "v".repeat(513) } }, "metadata.k"],
    ["a non-string metadata value", { metadata: { k: 1 } }, "metadata.k"],
    ["a bad expires_after", { expires_after: { anchor: "created_at", seconds: 10 } }, "expires_after.anchor"],
  ])("refuses %s with a 400 naming the field", async (_name, body, param) => {
    const r = await api("POST", "/v1/threads", body);
    expect(r.status).toBe(400);
    const e = errorOf(r);
    expect(e.type).toBe("invalid_request_error");
    expect(e.param).toBe(param);
  });

  it("refuses malformed JSON with a 400 and creates nothing", async () => {
    const id = uniqueId();
    const r = await api("POST", "/v1/threads", `{"id":"${id}",`);
    expect(r.status).toBe(400);
    expect(errorOf(r).message).toMatch(/could not parse the JSON body/);
    expect((await api("GET", `/v1/threads/${id}`)).status).toBe(404);
  });

  it("refuses a JSON body that is not an object", async () => {
    const r = await api("POST", "/v1/threads", "[1,2]");
    expect(r.status).toBe(400);
    errorOf(r);
  });

  it("refuses a body over the size limit with 413", async () => {
    const r = await api("POST", "/v1/threads", { instructions: "x".repeat(1_100_000) });
    expect(r.status).toBe(413);
    expect(errorOf(r).type).toBe("request_too_large");
  });
});

describe("GET /v1/threads/{id}", () => {
  it("returns the thread", async () => {
    const t = await createThread({ metadata: { a: "b" } });
    const r = await api("GET", `/v1/threads/${t.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(t);
  });

  it("answers 404 for an unknown thread", async () => {
    const r = await api("GET", `/v1/threads/${uniqueId("missing")}`);
    expect(r.status).toBe(404);
    expect(errorOf(r).type).toBe("not_found_error");
  });

  it("answers 400 for a malformed thread ID", async () => {
    const r = await api("GET", "/v1/threads/bad%20id");
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe("thread_id");
  });
});

describe("POST /v1/threads/{id}", () => {
  it("updates only the given fields and moves updated_at", async () => {
    const t = await createThread({ instructions: "old", metadata: { a: "1" } });
    const r = await api("POST", `/v1/threads/${t.id}`, { model: "@cf/openai/gpt-oss-120b", params: { top_p: 0.5 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model: "@cf/openai/gpt-oss-120b", params: { top_p: 0.5 }, instructions: "old", metadata: { a: "1" } });
    expect(r.body.updated_at).toBeGreaterThanOrEqual(t.updated_at);
    expect((await api("GET", `/v1/threads/${t.id}`)).body).toEqual(r.body);
  });

  it("clears instructions and expires_after with null", async () => {
    const t = await createThread({ instructions: "x", expires_after: { anchor: "last_active_at", seconds: 3600 } });
    expect(t.expires_after).toEqual({ anchor: "last_active_at", seconds: 3600 });
    const r = await api("POST", `/v1/threads/${t.id}`, { instructions: null, expires_after: null });
    expect(r.body.instructions).toBeNull();
    expect(r.body.expires_after).toBeNull();
  });

  it("refuses an ID change (unknown field) and changes nothing", async () => {
    const t = await createThread({ instructions: "keep" });
    const r = await api("POST", `/v1/threads/${t.id}`, { id: "other", instructions: "changed" });
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe("id");
    expect((await api("GET", `/v1/threads/${t.id}`)).body.instructions).toBe("keep");
  });

  it("answers 404 for an unknown thread", async () => {
    expect((await api("POST", `/v1/threads/${uniqueId()}`, { instructions: "x" })).status).toBe(404);
  });
});

describe("DELETE /v1/threads/{id}", () => {
  it("deletes the thread and its messages; the ID can be created again, empty", async () => {
    const t = await createThread();
    await api("POST", `/v1/threads/${t.id}/messages`, { role: "user", content: "remember me" });
    const r = await api("DELETE", `/v1/threads/${t.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: t.id, object: "thread.deleted", deleted: true });
    expect((await api("GET", `/v1/threads/${t.id}`)).status).toBe(404);
    expect((await api("GET", `/v1/threads/${t.id}/messages`)).status).toBe(404);
    expect((await api("DELETE", `/v1/threads/${t.id}`)).status).toBe(404);

    const again = await api("POST", "/v1/threads", { id: t.id });
    expect(again.status).toBe(201);
    expect(again.body.message_count).toBe(0);
    expect((await api("GET", `/v1/threads/${t.id}/messages`)).body.data).toEqual([]);
  });

  it("removes the thread from the listing", async () => {
    const t = await createThread();
    await api("DELETE", `/v1/threads/${t.id}`);
    const ids = await allThreadIds();
    expect(ids).not.toContain(t.id);
  });
});

async function allThreadIds(order = "desc"): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const r: any = await api("GET", `/v1/threads?limit=100&order=${order}${after ? `&after=${after}` : ""}`);
    ids.push(...r.body.data.map((t: any) => t.id));
    if (!r.body.has_more) break;
    after = r.body.last_id;
  }
  return ids;
}

describe("GET /v1/threads", () => {
  it("lists threads newest activity first, with cursor pagination that visits each once", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createThread()).id);
    // Activity on the oldest moves it to the front (within the directory's one-second throttle).
    await api("POST", `/v1/threads/${made[0]}/messages`, { role: "user", content: "bump" });
    const expected = [made[0], made[4], made[3], made[2], made[1]];
    await eventually(async () => (await allThreadIds()).filter((id) => made.includes(id))[0] === made[0], 5000);

    const page1 = await api("GET", "/v1/threads?limit=2");
    expect(page1.status).toBe(200);
    expect(page1.body).toMatchObject({ object: "list", has_more: true });
    const all = await allThreadIds();
    expect(all.filter((id) => made.includes(id))).toEqual(expected);
    expect(new Set(all).size).toBe(all.length);

    const asc = await allThreadIds("asc");
    expect(asc.filter((id) => made.includes(id))).toEqual([...expected].reverse());
  });

  it("pages exactly: first_id/last_id match the data and `after` the last ID is an empty page", async () => {
    const r = await api("GET", "/v1/threads?limit=100&order=asc");
    const last = r.body.data.at(-1).id;
    expect(r.body.first_id).toBe(r.body.data[0].id);
    expect(r.body.last_id).toBe(last);
    const tail = await api("GET", `/v1/threads?limit=100&order=asc&after=${last}`);
    if (!r.body.has_more) expect(tail.body).toEqual({ object: "list", data: [], first_id: null, last_id: null, has_more: false });
  });

  it.each([
    ["limit=0", "limit"], ["limit=101", "limit"], ["limit=abc", "limit"], ["order=up", "order"], ["colour=red", "colour"],
  ])("refuses %s with a 400", async (q, param) => {
    const r = await api("GET", `/v1/threads?${q}`);
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe(param);
  });

  it("refuses a cursor that names no thread", async () => {
    const r = await api("GET", `/v1/threads?after=${uniqueId("nope")}`);
    expect(r.status).toBe(400);
    expect(errorOf(r).param).toBe("after");
  });
});

describe("unknown routes", () => {
  it("answer an OpenAI-shaped 404", async () => {
    const r = await api("GET", "/v1/nothing-here");
    expect(r.status).toBe(404);
    expect(errorOf(r).message).toContain("/v1/nothing-here");
  });
});
