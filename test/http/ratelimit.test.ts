/** The per-tenant turn limit on the Workers Rate Limiting binding (vitest.config.ts runs this file with a limit of 3 a minute). */
import { describe, expect, it } from "vitest";
import { TEST_TURN_LIMIT } from "../turnLimit.ts";
import { api, connectSocket, errorOf, uniqueId, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();

const ALICE = { Authorization: "Bearer sk-alice" };
const BOB = { Authorization: "Bearer sk-bob" };
const CAROL = { Authorization: "Bearer sk-carol" };

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

describe("turn rate limit on the other ways to start a turn", () => {
  it("refuses a WebSocket turn.create with an error frame rate_limit_exceeded for its request, storing nothing of it", async () => {
    // The socket helper connects as the default ("local") tenant, which no other test here uses.
    const id = (await api("POST", "/v1/threads", { id: uniqueId("limited-ws") })).body.id as string;
    const socket = await connectSocket(id);
    let refused: any = null;
    let accepted = 0;
    for (let i = 0; i < 2 * TEST_TURN_LIMIT + 1 && !refused; i++) {
      socket.send({ type: "turn.create", request_id: `r${i}`, input: `turn ${i}` });
      const answer = await socket.waitFor((f) => f.request_id === `r${i}` && (f.type === "turn.accepted" || f.type === "error"));
      if (answer.type === "error") refused = answer;
      else accepted++;
    }
    expect(refused?.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(accepted).toBeGreaterThanOrEqual(1);
    // The accepted turns end; the refused one left no message behind (each accepted turn: a user message and a reply).
    await socket.waitFor(() => socket.frames.filter((f) => f.type === "turn.completed").length === accepted);
    expect((await api("GET", `/v1/threads/${id}`)).body.message_count).toBe(2 * accepted);
    socket.ws.close();
  });

  it("answers POST /v1/responses with 429 and Retry-After once the tenant's turns are used up, without calling the upstream", async () => {
    const statuses: number[] = [];
    let refused = null;
    for (let i = 0; i < 2 * TEST_TURN_LIMIT + 1 && !refused; i++) {
      const before = mock.chatRequests().length;
      const r = await api("POST", "/v1/responses", { input: `response ${i}` }, CAROL);
      statuses.push(r.status);
      if (r.status === 429) {
        refused = r;
        expect(mock.chatRequests().length).toBe(before);
      }
    }
    expect(refused?.status).toBe(429);
    expect(errorOf(refused!)).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(Number(refused!.headers.get("retry-after"))).toBe(60);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
  });
});
