import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { mapUpstreamError } from "../../src/upstream/errors.ts";
import { normalizingFetch } from "../../src/upstream/fetch.ts";
import { MockUpstream, type Fault } from "../mock/upstream.ts";

/** What our client would see if the upstream answered with this fault. */
async function mapped(fault: Fault) {
  const mock = new MockUpstream().fail(fault);
  const client = new OpenAI({ baseURL: "http://up.test/v1", apiKey: "k", maxRetries: 0, timeout: 200,
    fetch: normalizingFetch((i, init) => mock.handle(new Request(i, init))) });
  try {
    const s = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi there you" }], stream: true });
    for await (const _ of s) { /* drain */ }
  } catch (err) {
    return mapUpstreamError(err);
  }
  throw new Error("expected a failure");
}

describe("mapUpstreamError", () => {
  it.each([
    [{ kind: "status", status: 500 }, 502, "upstream_error"],
    [{ kind: "status", status: 503 }, 502, "upstream_error"],
    [{ kind: "status", status: 429, headers: { "retry-after": "3" } }, 429, "upstream_rate_limited"],
    [{ kind: "status", status: 404, body: { error: { message: "model not found" } } }, 400, "upstream_bad_request"],
    [{ kind: "status", status: 403 }, 502, "upstream_auth"],
    [{ kind: "cloudflare", status: 400, code: 5007, message: "No such model @cf/x" }, 400, "upstream_bad_request"],
    [{ kind: "cloudflare", status: 429, code: 3040, message: "Capacity temporarily exceeded" }, 429, "upstream_rate_limited"],
    [{ kind: "cloudflare", status: 500, code: 3040, message: "Capacity temporarily exceeded" }, 429, "upstream_rate_limited"],
    [{ kind: "cloudflare", status: 404, code: 7003, message: "Could not route to /accounts" }, 400, "upstream_bad_request"],
    [{ kind: "hang" }, 502, "upstream_timeout"],
    [{ kind: "malformed" }, 502, "upstream_malformed"],
    [{ kind: "cut", afterChunks: 1 }, 502, "upstream_disconnected"],
  ] as [Fault, number, string][])("maps %o to %i %s", async (fault, status, code) => {
    const e = await mapped(fault);
    expect(e.status).toBe(status);
    expect(e.code).toBe(code);
    if (fault.kind === "cloudflare") expect(e.message).toContain(fault.message);
    if (fault.kind === "status" && fault.headers?.["retry-after"]) expect(e.headers["Retry-After"]).toBe("3");
  });
});
