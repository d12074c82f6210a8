/**
 * Local development without any upstream: `npm run dev` answers with the
 * built-in dev/echo model, and a Worker without DEV_MODE refuses instead of
 * silently falling back to it (DESIGN.md, Upstream).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, openAiError, uniqueId } from "./client.ts";
import { startDevScript, startWorker, type RunningWorker } from "./harness.ts";

/** What `curl -d '{…}' URL` sends: curl's default form content type, JSON in the body. */
const CURL = { "content-type": "application/x-www-form-urlencoded", "user-agent": "curl/8.5.0", accept: "*/*" };

describe("npm run dev (DEV_MODE=true, no upstream configured)", () => {
  let dev: RunningWorker & { output(): string };

  beforeAll(async () => {
    dev = await startDevScript();
  });

  afterAll(async () => {
    await dev?.dispose();
  });

  it("holds a curl-style conversation with dev/echo, which sees the earlier messages", async () => {
    const api = apiClient(dev.url, CURL);
    const id = uniqueId("dev");
    const created = await api("POST", "/v1/threads", `{"id":"${id}"}`);
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    const first = await api("POST", `/v1/threads/${id}/turns`, '{"input":"Hello there"}');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ status: "completed", model: "dev/echo" });
    expect(first.body.output.content).toBe("You said: Hello there (dev/echo: user message 1 of 1 messages in context)");

    const second = await api("POST", `/v1/threads/${id}/turns`, '{"input":"And again"}');
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: "completed", model: "dev/echo" });
    // Two user messages and the first reply went to the model: it saw the history.
    expect(second.body.output.content).toBe("You said: And again (dev/echo: user message 2 of 3 messages in context)");

    const messages = await api("GET", `/v1/threads/${id}/messages`);
    expect(messages.body.data.map((m: any) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    // The log says where replies come from; workerd's log reaches wrangler's output a moment later.
    for (let i = 0; i < 50 && !dev.output().includes("dev/echo"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(dev.output()).toMatch(/replies come from the built-in dev\/echo model/);
  });

  it("streams dev/echo replies as SSE too", async () => {
    const api = apiClient(dev.url, CURL);
    const id = uniqueId("dev");
    await api("POST", "/v1/threads", `{"id":"${id}"}`);
    const r = await api("POST", `/v1/threads/${id}/turns`, '{"input":"stream please","stream":true}');
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(r.body).toContain("event: message.delta");
    expect(r.body).toContain("event: turn.completed");
    expect(r.body).toContain('"model":"dev/echo"');
  });
});

describe("a Worker with neither DEV_MODE nor an upstream configured", () => {
  let worker: RunningWorker;
  let bare: RunningWorker;

  beforeAll(async () => {
    // Serving without keys on purpose, so the missing upstream is what is tested.
    worker = await startWorker({ vars: { AUTH_MODE: "none" } });
    bare = await startWorker({ vars: {} });
  });

  afterAll(async () => {
    await worker?.dispose();
    await bare?.dispose();
  });

  it("refuses every request when it has no API keys either (a deployed Worker never serves anonymously by accident)", async () => {
    const api = apiClient(bare.url);
    const r = await api("POST", "/v1/threads", { id: uniqueId("nokeys") });
    expect(r.status).toBe(401);
    expect(openAiError(r).type).toBe("authentication_error");
  });

  it("answers a turn with an OpenAI-shaped error, not a dev/echo reply, and stores nothing", async () => {
    const api = apiClient(worker.url);
    const id = uniqueId("nocfg");
    expect((await api("POST", "/v1/threads", { id })).status).toBe(201);

    const r = await api("POST", `/v1/threads/${id}/turns`, { input: "Hello?" });
    expect(r.status).toBeGreaterThanOrEqual(500);
    const error = openAiError(r);
    expect(error.code).toBe("upstream_not_configured");
    expect(error.message).toMatch(/OPENAI_BASE_URL/);
    expect(JSON.stringify(r.body)).not.toContain("dev/echo");

    const messages = await api("GET", `/v1/threads/${id}/messages`);
    expect(messages.body.data).toEqual([]);
  });
});
