import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env.ts";
import { ApiError } from "../../src/errors.ts";
import { upstreamFor } from "../../src/upstream/client.ts";
import { MockUpstream, type Fault } from "../mock/upstream.ts";

const base = {} as Env;

/** Builds the client from env with a recording fetch and sends one chat request through it. */
async function firstRequest(env: Partial<Env>) {
  const mock = new MockUpstream();
  const seen: Request[] = [];
  const up = upstreamFor({ ...base, ...env } as Env, async (input, init) => {
    const req = new Request(input, init);
    seen.push(req.clone());
    return mock.handle(req);
  });
  const reply = await up.client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 5 });
  return { up, req: seen[0]!, reply };
}

describe("upstreamFor", () => {
  it("uses OPENAI_BASE_URL and OPENAI_API_KEY first", async () => {
    const { up, req } = await firstRequest({
      OPENAI_BASE_URL: "http://my-server.test/v1", OPENAI_API_KEY: "k1", CLOUDFLARE_ACCOUNT_ID: "acc", CLOUDFLARE_API_TOKEN: "tok",
    });
    expect(req.url).toBe("http://my-server.test/v1/chat/completions");
    expect(req.headers.get("authorization")).toBe("Bearer k1");
    expect(up.dev).toBe(false);
  });

  it("uses Workers AI's OpenAI-compatible endpoint with an account and token", async () => {
    const { req } = await firstRequest({ CLOUDFLARE_ACCOUNT_ID: "acc123", CLOUDFLARE_API_TOKEN: "tok" });
    expect(req.url).toBe("https://api.cloudflare.com/client/v4/accounts/acc123/ai/v1/chat/completions");
    expect(req.headers.get("authorization")).toBe("Bearer tok");
  });

  it("goes through AI Gateway when AI_GATEWAY_ID is set", async () => {
    const { req } = await firstRequest({ CLOUDFLARE_ACCOUNT_ID: "acc123", CLOUDFLARE_API_TOKEN: "tok", AI_GATEWAY_ID: "gw" });
    expect(req.url).toBe("https://gateway.ai.cloudflare.com/v1/acc123/gw/workers-ai/v1/chat/completions");
  });

  it("falls back to dev/echo only when DEV_MODE is true", async () => {
    const up = upstreamFor({ ...base, DEV_MODE: "true" });
    expect(up.dev).toBe(true);
    const reply = await up.client.chat.completions.create({ model: "x", messages: [{ role: "user", content: "hey" }] });
    expect(reply.model).toBe("dev/echo");
    expect(reply.choices[0]!.message.content).toContain("You said: hey");
  });

  it("refuses to serve with no upstream outside local development", () => {
    expect(() => upstreamFor(base)).toThrow(ApiError);
    try {
      upstreamFor(base);
    } catch (e) {
      expect((e as ApiError).status).toBe(503);
      expect((e as ApiError).code).toBe("upstream_not_configured");
    }
  });
});

describe("dev/echo", () => {
  it("streams chat.completion.chunk SSE ending with usage and [DONE], and says how much history it saw", async () => {
    const up = upstreamFor({ ...base, DEV_MODE: "true" });
    const stream = await up.client.chat.completions.create({
      model: "x", stream: true, stream_options: { include_usage: true },
      messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }],
    });
    let text = "";
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("You said: c (dev/echo: user message 2 of 3 messages in context)");
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });

  it("stops on length at max_tokens", async () => {
    const up = upstreamFor({ ...base, DEV_MODE: "true" });
    const r = await up.client.chat.completions.create({ model: "x", max_tokens: 2, messages: [{ role: "user", content: "a b c" }] });
    expect(r.choices[0]!.finish_reason).toBe("length");
    expect(r.choices[0]!.message.content).toBe("You said: ");
  });
});

describe("upstream retries", () => {
  /** A client with retries on, over the mock; returns it with the mock. */
  function retrying(...faults: Fault[]) {
    const mock = new MockUpstream().fail(...faults);
    const up = upstreamFor({ ...base, OPENAI_BASE_URL: "http://up.test/v1", UPSTREAM_MAX_RETRIES: "2" } as Env,
      (input, init) => mock.handle(new Request(input, init)));
    return { mock, client: up.client };
  }
  const ask = { model: "m", messages: [{ role: "user" as const, content: "hi you" }] };

  it("retries a 503 and then answers", async () => {
    const { mock, client } = retrying({ kind: "status", status: 503 });
    const r = await client.chat.completions.create(ask);
    expect(r.choices[0]!.message.content).toBe("echo(1): hi you");
    expect(mock.chatRequests()).toHaveLength(2);
  });

  it("waits as long as a 429's Retry-After says before retrying", async () => {
    const { mock, client } = retrying({ kind: "status", status: 429, headers: { "retry-after": "1" } });
    const start = Date.now();
    await client.chat.completions.create(ask);
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
    expect(mock.chatRequests()).toHaveLength(2);
  });

  it("gives up after UPSTREAM_MAX_RETRIES", async () => {
    const { mock, client } = retrying({ kind: "status", status: 500 }, { kind: "status", status: 500 }, { kind: "status", status: 500 });
    await expect(client.chat.completions.create(ask)).rejects.toThrow();
    expect(mock.chatRequests()).toHaveLength(3);
  });

  it("never retries once tokens have started to arrive", async () => {
    const { mock, client } = retrying({ kind: "cut", afterChunks: 1 });
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    let text = "";
    await expect((async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    })()).rejects.toThrow();
    expect(text).toBe("echo(1): ");
    expect(mock.chatRequests()).toHaveLength(1);
  });
});
