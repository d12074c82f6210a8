/** The per-tenant turn limit on the Workers Rate Limiting binding (vitest.config.ts runs this file with a limit of 3 a minute). */
import { describe, expect, it } from "vitest";
import { TEST_TURN_LIMIT } from "../turnLimit.ts";
import { api, errorOf, uniqueId, useMockUpstream } from "../helpers.ts";

useMockUpstream();

const ALICE = { Authorization: "Bearer sk-alice" };
const BOB = { Authorization: "Bearer sk-bob" };

/** Creates a thread as the tenant of these headers. */
async function threadOf(headers: Record<string, string>): Promise<string> {
  const r = await api("POST", "/v1/threads", { id: uniqueId("limited") }, headers);
  expect(r.status).toBe(201);
  return r.body.id;
}

/** Runs turns as one tenant until one is refused (bounded), answering every status seen. */
async function turnsUntilRefused(threadId: string, headers: Record<string, string>) {
  const statuses: number[] = [];
  // The local engine counts in fixed one-minute windows: within two windows at most
  // 2 x limit turns pass, so this many attempts always meets a refusal.
  for (let i = 0; i < 2 * TEST_TURN_LIMIT + 1; i++) {
    const r = await api("POST", `/v1/threads/${threadId}/turns`, { input: `turn ${i}` }, headers);
    statuses.push(r.status);
    if (r.status !== 200) return { statuses, refused: r };
  }
  return { statuses, refused: null };
}

describe("turn rate limit", () => {
  it("answers 429 with Retry-After once the tenant's turns are used up, storing nothing of the refused turn", async () => {
    const id = await threadOf(ALICE);
    const { statuses, refused } = await turnsUntilRefused(id, ALICE);
    expect(refused?.status).toBe(429);
    expect(errorOf(refused!)).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(Number(refused!.headers.get("retry-after"))).toBe(60);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    // Each passed turn stored a user message and a reply; the refused one stored nothing.
    const thread = (await api("GET", `/v1/threads/${id}`, undefined, ALICE)).body;
    expect(thread.message_count).toBe(2 * (statuses.length - 1));
  });

  it("counts each tenant on its own: one tenant's refusals do not stop another's turns", async () => {
    expect((await turnsUntilRefused(await threadOf(ALICE), ALICE)).refused?.status).toBe(429);
    const b = await threadOf(BOB);
    expect((await api("POST", `/v1/threads/${b}/turns`, { input: "hello" }, BOB)).status).toBe(200);
  });
});
