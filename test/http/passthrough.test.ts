import { env, exports } from "cloudflare:workers";
import OpenAI from "openai";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env.ts";
import worker from "../../src/index.ts";
import { DEFAULT_MAX_TOKENS } from "../../src/upstream/models.ts";
import { api, AUTH, errorOf, LOCAL_KEY, post, resultOf, useMockUpstream, type ApiResult } from "../helpers.ts";
import type { Fault } from "../mock/upstream.ts";

const mock = useMockUpstream();

/** The same Worker with some settings changed (e.g. no upstream and DEV_MODE=true), called like a client. */
async function apiWith(overrides: Partial<Record<keyof Env, string | undefined>>, method: string, path: string, body?: unknown): Promise<ApiResult> {
  return resultOf(await rawWith(overrides, method, path, body));
}

function rawWith(overrides: Partial<Record<keyof Env, string | undefined>>, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...AUTH } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return worker.fetch(new Request(`http://worker.test${path}`, init), { ...env, ...overrides } as Env, {} as ExecutionContext);
}

/** No upstream configured, local development: dev/echo answers. */
const DEV = { OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, DEV_MODE: "true" } as const;

/** The `data:` payloads of an SSE body, in order, unparsed (the last one of a finished stream is `[DONE]`). */
function sseData(text: string): string[] {
  return text.split("\n\n").filter((b) => b.trim() !== "").map((block) =>
    block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n"));
}

/** Reads an SSE body until `n` data payloads have arrived (or it ends); returns them and the reader. */
async function readFrames(res: Response, n: number) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    if (sseData(text).length >= n && text.endsWith("\n\n")) break;
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { frames: sseData(text), reader };
}

/** Records the raw bodies the mock upstream answered with, to compare with what the client got. */
function recordUpstreamAnswers(): string[] {
  const answers: string[] = [];
  const handle = mock.handle;
  vi.spyOn(mock, "handle").mockImplementation(async (req) => {
    const res = await handle(req);
    answers.push(await res.clone().text());
    return res;
  });
  return answers;
}

/** An openai SDK client pointed at this Worker: what a user's unmodified code does after changing baseURL. */
function sdkClient(): OpenAI {
  return new OpenAI({
    baseURL: "http://worker.test/v1", apiKey: LOCAL_KEY, maxRetries: 0,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init))) as typeof fetch,
  });
}

const hello = { model: "@cf/meta/llama-3.1-8b-instruct", messages: [{ role: "user", content: "Hello there" }] };

const upstreamFaults: [string, number, string, string, Fault][] = [
  ["a 500", 502, "upstream_error", "upstream_error", { kind: "status", status: 500 }],
  ["a 503", 502, "upstream_error", "upstream_error", { kind: "status", status: 503 }],
  ["a 401 (our credentials)", 502, "upstream_error", "upstream_auth", { kind: "status", status: 401, body: { error: { message: "bad key" } } }],
  ["a Cloudflare 5007 (no such model)", 400, "invalid_request_error", "upstream_bad_request", { kind: "cloudflare", status: 400, code: 5007, message: "No such model" }],
  ["a Cloudflare 3040 (capacity)", 429, "rate_limit_error", "upstream_rate_limited", { kind: "cloudflare", status: 429, code: 3040, message: "Capacity temporarily exceeded" }],
];

describe("POST /v1/chat/completions", () => {
  it("sends the upstream every parameter the client sent, plus max_tokens 1024, and returns its chat.completion byte for byte", async () => {
    const answers = recordUpstreamAnswers();
    const sent = {
      model: "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
      temperature: 0.2, top_p: 0.9, seed: 7, stop: ["\n\n"], frequency_penalty: 0.1, presence_penalty: 0.3,
      response_format: { type: "json_object" }, tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      tool_choice: "auto", top_k: 40, user: "u-1", stream: false,
    };
    const res = await post("/v1/chat/completions", sent);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    expect(mock.chatRequests()).toHaveLength(1);
    expect(mock.chatRequests()[0]!.body).toEqual({ ...sent, max_tokens: DEFAULT_MAX_TOKENS });
    expect(text).toBe(answers[0]);
    expect(JSON.parse(text)).toMatchObject({
      object: "chat.completion", model: sent.model,
      choices: [{ index: 0, message: { role: "assistant", content: "echo(2): Hi" }, finish_reason: "stop" }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 2, total_tokens: expect.any(Number) },
    });
  });

  it.each([
    ["max_tokens", { max_tokens: 3 }],
    ["max_completion_tokens", { max_completion_tokens: 3 }],
  ])("keeps the client's %s and adds no default", async (_n, budget) => {
    await api("POST", "/v1/chat/completions", { ...hello, ...budget });
    expect(mock.chatRequests()[0]!.body).toEqual({ ...hello, ...budget });
  });

  it("calls the upstream with this deployment's key, never the client's", async () => {
    await api("POST", "/v1/chat/completions", hello, { Authorization: "Bearer sk-alice" });
    expect(mock.chatRequests()[0]!.headers.authorization).toBe("Bearer test-key");
  });

  it.each([
    ["POST", "/v1/chat/completions", hello],
    ["POST", "/v1/embeddings", { model: "@cf/baai/bge-large-en-v1.5", input: "x" }],
    ["GET", "/v1/models", undefined],
    ["GET", "/v1/models/@cf/meta/llama-3.1-8b-instruct", undefined],
  ])("refuses %s %s without a valid API key, before calling the upstream", async (method, path, body) => {
    const r = await api(method, path, body, { Authorization: "Bearer sk-nobody" });
    expect(r.status).toBe(401);
    expect(errorOf(r).type).toBe("authentication_error");
    expect(mock.requests).toHaveLength(0);
  });

  it("streams chat.completion.chunk frames as the upstream sends them, ending with data: [DONE]", async () => {
    const res = await post("/v1/chat/completions", { ...hello, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = sseData(await res.text());
    expect(frames.at(-1)).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    for (const c of chunks) expect(c).toMatchObject({ object: "chat.completion.chunk", model: hello.model });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("echo(1): Hello there");
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe("stop");
    expect(mock.chatRequests()[0]!.body).toEqual({ ...hello, stream: true, max_tokens: DEFAULT_MAX_TOKENS });
  });

  it("relays each frame before the upstream has finished (nothing is buffered)", async () => {
    // The upstream sends the role frame and three words, then stalls: they must reach the client at once.
    mock.fail({ kind: "stall", afterChunks: 3 });
    const started = Date.now();
    const res = await post("/v1/chat/completions", { ...hello, messages: [{ role: "user", content: "one two three four five six" }], stream: true });
    const { frames, reader } = await readFrames(res, 4);
    expect(Date.now() - started).toBeLessThan(1000); // UPSTREAM_TIMEOUT_MS is 1500 in the tests
    expect(frames.map((f) => JSON.parse(f).choices[0].delta.content)).toEqual(["", "echo(1): ", "one ", "two "]);
    await reader.cancel();
  });

  it("does not take a client that is slow to read for a stalled upstream", async () => {
    const res = await post("/v1/chat/completions", { ...hello, stream: true });
    const reader = res.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    await new Promise((r) => setTimeout(r, 1800)); // longer than UPSTREAM_TIMEOUT_MS (1500 in the tests)
    for (let c = await reader.read(); !c.done; c = await reader.read()) text += new TextDecoder().decode(c.value);
    expect(sseData(text).at(-1)).toBe("[DONE]");
  });

  it("passes stream_options.include_usage through, so the last chunk before [DONE] carries the usage", async () => {
    const res = await post("/v1/chat/completions", { ...hello, stream: true, stream_options: { include_usage: true } });
    const frames = sseData(await res.text());
    expect(mock.chatRequests()[0]!.body.stream_options).toEqual({ include_usage: true });
    expect(frames.at(-1)).toBe("[DONE]");
    expect(JSON.parse(frames.at(-2)!)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number), completion_tokens: 3 } });
  });

  it("works for an unmodified openai SDK client, streaming or not", async () => {
    const client = sdkClient();
    const completion = await client.chat.completions.create({ model: hello.model, messages: [{ role: "user", content: "sdk" }] });
    expect(completion.choices[0]!.message.content).toBe("echo(1): sdk");
    const stream = await client.chat.completions.create({
      model: hello.model, messages: [{ role: "user", content: "sdk stream" }], stream: true, stream_options: { include_usage: true },
    });
    let text = "";
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("echo(1): sdk stream");
    expect(usage).toMatchObject({ completion_tokens: 3 });
  });

  it.each(upstreamFaults)("maps %s to %i %s (code %s), streaming or not", async (_n, status, type, code, fault) => {
    for (const stream of [false, true]) {
      mock.fail(fault);
      const r = await api("POST", "/v1/chat/completions", { ...hello, stream });
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(errorOf(r)).toMatchObject({ type, code });
      if ("message" in fault) expect(errorOf(r).message).toContain(fault.message);
    }
  });

  it("keeps the upstream's Retry-After on a 429", async () => {
    mock.fail({ kind: "status", status: 429, headers: { "retry-after": "7" }, body: { error: { message: "slow down", type: "rate_limit_error" } } });
    const r = await api("POST", "/v1/chat/completions", hello);
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("7");
    expect(errorOf(r)).toMatchObject({ type: "rate_limit_error", message: expect.stringContaining("slow down") });
  });

  it("answers 502 when the upstream answers a streaming request with JSON instead of a stream", async () => {
    mock.fail({ kind: "status", status: 200, body: { not: "a stream" } });
    const r = await api("POST", "/v1/chat/completions", { ...hello, stream: true });
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_malformed");
  });

  it("ends the stream with an error frame and no [DONE] when the upstream cuts out, so SDK clients raise", async () => {
    mock.fail({ kind: "cut", afterChunks: 2 });
    const res = await post("/v1/chat/completions", { ...hello, messages: [{ role: "user", content: "a b c d e" }], stream: true });
    expect(res.status).toBe(200);
    const frames = sseData(await res.text());
    expect(frames).not.toContain("[DONE]");
    expect(frames.slice(0, -1).map((f) => JSON.parse(f).choices[0].delta.content)).toEqual(["", "echo(1): ", "a "]);
    expect(JSON.parse(frames.at(-1)!)).toMatchObject({ error: { type: "upstream_error", code: "upstream_error" } });

    mock.fail({ kind: "cut", afterChunks: 2 });
    const stream = await sdkClient().chat.completions.create({ ...hello, messages: [{ role: "user", content: "a b c d e" }], stream: true });
    await expect((async () => { for await (const _ of stream); })()).rejects.toThrow(/broke off/);
  });

  it("ends the stream with an upstream_timeout error frame when the upstream stalls", async () => {
    mock.fail({ kind: "stall", afterChunks: 2 });
    const res = await post("/v1/chat/completions", { ...hello, messages: [{ role: "user", content: "a b c d e" }], stream: true });
    const frames = sseData(await res.text());
    expect(frames).not.toContain("[DONE]");
    expect(JSON.parse(frames.at(-1)!)).toMatchObject({ error: { type: "upstream_error", code: "upstream_timeout" } });
  });

  it("stops reading the upstream when the client goes away", async () => {
    mock.chunkDelayMs = 20;
    const res = await post("/v1/chat/completions", { ...hello, messages: [{ role: "user", content: "word ".repeat(200) }], stream: true });
    const { reader } = await readFrames(res, 3);
    await reader.cancel();
    await vi.waitUntil(() => mock.streamsCancelled === 1, { timeout: 3000 });
  });

  it.each([
    ["malformed JSON", "{nope", null],
    ["a body that is not an object", [hello], null],
    ["an empty body", "", "model"],
    ["a missing model", { messages: hello.messages }, "model"],
    ["an empty model", { ...hello, model: "" }, "model"],
    ["a model that is not a string", { ...hello, model: 5 }, "model"],
    ["missing messages", { model: hello.model }, "messages"],
    ["an empty messages list", { ...hello, messages: [] }, "messages"],
    ["messages that are not a list", { ...hello, messages: "hi" }, "messages"],
    ["a non-boolean stream", { ...hello, stream: "yes" }, "stream"],
  ])("refuses %s with a 400 naming the param, without calling the upstream", async (_n, body, param) => {
    const r = await api("POST", "/v1/chat/completions", body);
    expect(r.status).toBe(400);
    expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", param });
    expect(mock.requests).toHaveLength(0);
  });

  it("refuses a body over the size limit with 413", async () => {
    const r = await api("POST", "/v1/chat/completions", { ...hello, messages: [{ role: "user", content: "x".repeat(1_100_000) }] });
    expect(r.status).toBe(413);
    expect(errorOf(r).type).toBe("request_too_large");
    expect(mock.requests).toHaveLength(0);
  });

  it("is answered by dev/echo, JSON or SSE, when no upstream is configured in local development", async () => {
    const r = await apiWith(DEV, "POST", "/v1/chat/completions", hello);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      object: "chat.completion", model: "dev/echo",
      choices: [{ message: { role: "assistant", content: "You said: Hello there (dev/echo: user message 1 of 1 messages in context)" } }],
    });
    const res = await rawWith(DEV, "POST", "/v1/chat/completions", { ...hello, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = sseData(await res.text());
    expect(frames.at(-1)).toBe("[DONE]");
    expect(JSON.parse(frames.at(-2)!).usage).toMatchObject({ completion_tokens: expect.any(Number) });
    expect(mock.requests).toHaveLength(0);
  });

  it("answers 503 upstream_not_configured with no upstream outside local development", async () => {
    const r = await apiWith({ OPENAI_BASE_URL: undefined, DEV_MODE: undefined }, "POST", "/v1/chat/completions", hello);
    expect(r.status).toBe(503);
    expect(errorOf(r).code).toBe("upstream_not_configured");
  });
});

describe("POST /v1/embeddings", () => {
  it("sends the upstream exactly what the client sent and returns its list byte for byte", async () => {
    const answers = recordUpstreamAnswers();
    const sent = { model: "@cf/baai/bge-large-en-v1.5", input: ["I love matcha", "tea"] };
    const res = await post("/v1/embeddings", sent);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]).toMatchObject({ method: "POST", path: "/v1/embeddings", body: sent });
    expect(mock.requests[0]!.headers.authorization).toBe("Bearer test-key");
    expect(text).toBe(answers[0]);
    expect(JSON.parse(text)).toMatchObject({
      object: "list", model: sent.model,
      data: [{ object: "embedding", index: 0, embedding: expect.any(Array) }, { object: "embedding", index: 1 }],
    });
  });

  it("works for an unmodified openai SDK client (which asks for base64)", async () => {
    const r = await sdkClient().embeddings.create({ model: "@cf/baai/bge-large-en-v1.5", input: "abcd" });
    expect(mock.requests[0]!.body).toEqual({ model: "@cf/baai/bge-large-en-v1.5", input: "abcd", encoding_format: "base64" });
    expect(r.data[0]!.embedding).toEqual([0.04, 0.5, -0.25]);
  });

  it.each(upstreamFaults)("maps %s to %i %s (code %s)", async (_n, status, type, code, fault) => {
    mock.fail(fault);
    const r = await api("POST", "/v1/embeddings", { model: "@cf/baai/bge-large-en-v1.5", input: "x" });
    expect(r.status).toBe(status);
    expect(errorOf(r)).toMatchObject({ type, code });
  });

  it("keeps the upstream's Retry-After on a 429", async () => {
    mock.fail({ kind: "status", status: 429, headers: { "retry-after": "3" } });
    const r = await api("POST", "/v1/embeddings", { model: "@cf/baai/bge-large-en-v1.5", input: "x" });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("3");
  });

  it.each([
    ["malformed JSON", "{nope", null],
    ["a missing model", { input: "x" }, "model"],
    ["a missing input", { model: "m" }, "input"],
    ["an empty input string", { model: "m", input: "" }, "input"],
    ["an empty input list", { model: "m", input: [] }, "input"],
  ])("refuses %s with a 400 naming the param, without calling the upstream", async (_n, body, param) => {
    const r = await api("POST", "/v1/embeddings", body);
    expect(r.status).toBe(400);
    expect(errorOf(r)).toMatchObject({ type: "invalid_request_error", param });
    expect(mock.requests).toHaveLength(0);
  });

  it("is answered by dev/echo with deterministic unit vectors, closer for texts that share words", async () => {
    const input = ["the cat sat on the mat", "the cat sat on a mat", "quantum chromodynamics", "the cat sat on the mat"];
    const r = await apiWith(DEV, "POST", "/v1/embeddings", { model: "@cf/baai/bge-large-en-v1.5", input });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ object: "list", model: "dev/echo", usage: { prompt_tokens: expect.any(Number) } });
    const vectors: number[][] = r.body.data.map((d: any) => d.embedding);
    expect(r.body.data.map((d: any) => d.index)).toEqual([0, 1, 2, 3]);
    for (const v of vectors) {
      expect(v).toHaveLength(16);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(vectors[3]).toEqual(vectors[0]);
    expect(dot(vectors[0]!, vectors[1]!)).toBeGreaterThan(dot(vectors[0]!, vectors[2]!));
    expect(mock.requests).toHaveLength(0);
  });

  it("dev/echo honours dimensions and encoding_format base64", async () => {
    const floats = await apiWith(DEV, "POST", "/v1/embeddings", { model: "m", input: "hello", dimensions: 8 });
    const b64 = await apiWith(DEV, "POST", "/v1/embeddings", { model: "m", input: "hello", dimensions: 8, encoding_format: "base64" });
    const bytes = Uint8Array.from(atob(b64.body.data[0].embedding), (c) => c.charCodeAt(0));
    const decoded = Array.from(new Float32Array(bytes.buffer));
    expect(floats.body.data[0].embedding).toHaveLength(8);
    decoded.forEach((x, i) => expect(x).toBeCloseTo(floats.body.data[0].embedding[i], 6));
  });
});

describe("GET /v1/models", () => {
  it("lists the known chat models, the default model and the embedding model in OpenAI's format, without dev/echo", async () => {
    const r = await api("GET", "/v1/models");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ object: "list", has_more: false });
    const ids = r.body.data.map((m: any) => m.id);
    expect(ids).toEqual([
      "@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
      "@cf/openai/gpt-oss-120b", "@cf/meta/llama-3.2-11b-vision-instruct", "@cf/meta/llama-4-scout-17b-16e-instruct", "@cf/baai/bge-large-en-v1.5",
    ]);
    expect(r.body.data[0]).toEqual({ id: "@cf/meta/llama-3.1-8b-instruct", object: "model", created: 0, owned_by: "meta" });
    expect(r.body.data[3].owned_by).toBe("openai");
    expect(r.body.first_id).toBe(ids[0]);
    expect(r.body.last_id).toBe(ids.at(-1));
    expect(mock.requests).toHaveLength(0);
  });

  it("adds DEFAULT_MODEL and the comma-separated MODELS, once each", async () => {
    const r = await apiWith({ DEFAULT_MODEL: "@cf/qwen/qwq-32b", MODELS: " @hf/nousresearch/hermes-2-pro-mistral-7b, @cf/qwen/qwq-32b,,plain-model " }, "GET", "/v1/models");
    const ids = r.body.data.map((m: any) => m.id);
    expect(ids.slice(6)).toEqual(["@cf/qwen/qwq-32b", "@cf/baai/bge-large-en-v1.5", "@hf/nousresearch/hermes-2-pro-mistral-7b", "plain-model"]);
    expect(r.body.data.at(-1).owned_by).toBe("upstream");
  });

  it("lists dev/echo when it is the model answering", async () => {
    const r = await apiWith(DEV, "GET", "/v1/models");
    expect(r.body.data.map((m: any) => m.id)).toContain("dev/echo");
  });

  it("works for an unmodified openai SDK client", async () => {
    const ids: string[] = [];
    for await (const m of sdkClient().models.list()) ids.push(m.id);
    expect(ids).toContain("@cf/openai/gpt-oss-120b");
  });
});

describe("GET /v1/models/{model}", () => {
  it("retrieves a model whose ID contains slashes, sent raw or percent-encoded", async () => {
    const raw = await api("GET", "/v1/models/@cf/meta/llama-3.1-8b-instruct");
    expect(raw.status).toBe(200);
    expect(raw.body).toEqual({ id: "@cf/meta/llama-3.1-8b-instruct", object: "model", created: 0, owned_by: "meta" });
    const encoded = await api("GET", `/v1/models/${encodeURIComponent("@cf/baai/bge-large-en-v1.5")}`);
    expect(encoded.body).toMatchObject({ id: "@cf/baai/bge-large-en-v1.5", owned_by: "baai" });
    const viaSdk = await sdkClient().models.retrieve("@cf/openai/gpt-oss-120b");
    expect(viaSdk).toMatchObject({ id: "@cf/openai/gpt-oss-120b", object: "model" });
  });

  it("answers 404 not_found_error naming the model for an unknown ID", async () => {
    const r = await api("GET", "/v1/models/@cf/nobody/nothing");
    expect(r.status).toBe(404);
    expect(errorOf(r)).toMatchObject({ type: "not_found_error", param: "model", message: expect.stringContaining("@cf/nobody/nothing") });
    expect((await api("GET", "/v1/models/dev/echo")).status).toBe(404);
  });

  it("serves dev/echo only when it is the model answering", async () => {
    expect((await apiWith(DEV, "GET", "/v1/models/dev/echo")).body).toMatchObject({ id: "dev/echo", owned_by: "durable-threads" });
  });
});
