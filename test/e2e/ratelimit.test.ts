/**
 * The turn rate limit under wrangler dev: the TURN_LIMIT rate-limit binding
 * runs locally and offline, keyed by tenant (here with a limit of 2 a minute).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, openAiError, uniqueId, type Api } from "./client.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "./harness.ts";

const LIMIT = 2;

let upstream: ServedMock;
let worker: RunningWorker;
let api: Api;

beforeAll(async () => {
  upstream = await serveMockUpstream();
  worker = await startWorker({ vars: mockUpstreamVars(upstream), turnLimit: LIMIT });
  api = apiClient(worker.url);
});

afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
});

describe("TURN_LIMIT under wrangler dev", () => {
  it("refuses a tenant's turns past the limit with 429 and Retry-After, and never calls the upstream for them", async () => {
    const id = uniqueId("limited");
    expect((await api("POST", "/v1/threads", { id })).status).toBe(201);
    const statuses: number[] = [];
    let refused = null;
    // Fixed one-minute windows locally: within two windows at most 2 x LIMIT turns pass.
    for (let i = 0; i < 2 * LIMIT + 1 && !refused; i++) {
      const r = await api("POST", `/v1/threads/${id}/turns`, { input: `turn ${i}` });
      statuses.push(r.status);
      if (r.status !== 200) refused = r;
    }
    expect(refused?.status).toBe(429);
    expect(openAiError(refused!)).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(refused!.headers.get("retry-after")).toBe("60");
    const passed = statuses.filter((s) => s === 200).length;
    expect(upstream.mock.chatRequests()).toHaveLength(passed);
    expect((await api("GET", `/v1/threads/${id}`)).body.message_count).toBe(2 * passed);
  });
});
