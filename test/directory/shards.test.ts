/** The tenant directory spread over shards: one listing order and working cursors across all of them. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DIRECTORY_SHARDS, shardOf, shardStub } from "../../src/directory/shards.ts";
import { api, eventually, uniqueId, useMockUpstream } from "../helpers.ts";

useMockUpstream();

/** Tenant "carol" (vitest.config.ts), whose listing the other tests barely touch. */
const CAROL = { Authorization: "Bearer sk-carol" };
const MADE = 14;

/** Every thread ID carol's listing shows, page by page with `after`. */
async function pagedIds(order: "asc" | "desc", limit: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const r: any = await api("GET", `/v1/threads?limit=${limit}&order=${order}${after ? `&after=${after}` : ""}`, undefined, CAROL);
    expect(r.status).toBe(200);
    ids.push(...r.body.data.map((t: any) => t.id));
    if (!r.body.has_more) return ids;
    after = r.body.last_id;
  }
  throw new Error("listing did not end");
}

/** Creates MADE threads for carol, oldest first, a few ms apart so their activity is strictly ordered. */
async function makeThreads(): Promise<string[]> {
  const made: string[] = [];
  for (let i = 0; i < MADE; i++) {
    const r = await api("POST", "/v1/threads", { id: uniqueId(`sharded-${i}`) }, CAROL);
    expect(r.status).toBe(201);
    made.push(r.body.id);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await eventually(async () => {
    const listed = new Set(await pagedIds("desc", 100));
    return made.every((id) => listed.has(id));
  }, 5000);
  return made;
}

describe("GET /v1/threads over a sharded directory", () => {
  it("keeps one newest-first order and visits every thread once when paging across shards", async () => {
    const made = await makeThreads();
    // The threads really are spread: the listing below has to merge several shards.
    expect(new Set(made.map(shardOf)).size).toBeGreaterThan(3);
    const expected = [...made].reverse();
    for (const limit of [1, 3, 5]) {
      const desc = await pagedIds("desc", limit);
      expect(desc.filter((id) => made.includes(id))).toEqual(expected);
      expect(new Set(desc).size).toBe(desc.length);
      const asc = await pagedIds("asc", limit);
      expect(asc.filter((id) => made.includes(id))).toEqual(made);
      expect(asc).toEqual([...desc].reverse());
    }
  });

  it("answers `before` a thread from any shard with the threads on its other side", async () => {
    const made = await makeThreads();
    const pivot = made[6]!;
    const newer = await api("GET", `/v1/threads?limit=100&before=${pivot}`, undefined, CAROL);
    expect(newer.body.data.map((t: any) => t.id).filter((id: string) => made.includes(id))).toEqual(made.slice(7).reverse());
    const older = await api("GET", `/v1/threads?limit=100&order=asc&before=${pivot}`, undefined, CAROL);
    expect(older.body.data.map((t: any) => t.id).filter((id: string) => made.includes(id))).toEqual(made.slice(0, 6));
  });

  it("moves a thread with new activity to the front, whatever its shard", async () => {
    const made = await makeThreads();
    await api("POST", `/v1/threads/${made[0]}/messages`, { role: "user", content: "bump" }, CAROL);
    await eventually(async () => (await pagedIds("desc", 4)).filter((id) => made.includes(id))[0] === made[0], 5000);
  });

  it("keeps each entry in the one shard its ID hashes to, and nowhere else", async () => {
    const made = await makeThreads();
    const holders = await Promise.all(made.map(async (id) => {
      const found: number[] = [];
      for (let n = 0; n < DIRECTORY_SHARDS; n++) if (await shardStub(env, "carol", n).position(id)) found.push(n);
      return found;
    }));
    expect(holders).toEqual(made.map((id) => [shardOf(id)]));
  });
});
