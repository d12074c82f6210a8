/**
 * The API reference at /docs and the document behind it, and the chat page on
 * a deployment with API keys (the key field, tickets for the socket).
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "../e2e/harness.ts";
import { describeInBrowser, isolatedContext, launchChromium, pageErrors, SCREENSHOTS } from "./chromium.ts";

const KEY = "sk-browser-test";
let served: ServedMock;
let worker: RunningWorker;

beforeAll(async () => {
  served = await serveMockUpstream();
  const vars = { ...mockUpstreamVars(served), API_KEYS: JSON.stringify({ [KEY]: "browser" }) };
  delete (vars as Record<string, string>).AUTH_MODE;
  worker = await startWorker({ vars });
});
afterAll(async () => {
  await worker?.dispose();
  await served?.close();
});

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without an API key on a deployment with keys", async () => {
    const res = await fetch(`${worker.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // And the API it describes does want the key.
    expect((await fetch(`${worker.url}/v1/threads`)).status).toBe(401);
  });

  it("is refused by the validator when it is broken, so the check above means something", async () => {
    const doc = (await (await fetch(`${worker.url}/openapi.json`)).json()) as any;
    doc.paths["/v1/threads"].get.parameters.push({ name: "where" }); // a parameter must say where it goes ("in")
    expect((await new Validator().validate(doc)).valid).toBe(false);
  });
});

describeInBrowser("the browser pages", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("renders the API reference at /docs with every request to anything but the Worker blocked", async () => {
    const { context, blocked } = await isolatedContext(browser, worker.url);
    const page = await context.newPage();
    const errors = pageErrors(page);
    const fromWorker: string[] = [];
    page.on("requestfinished", (r) => fromWorker.push(new URL(r.url()).pathname));
    await page.goto(`${worker.url}/docs`);
    await page.getByRole("heading", { name: "durable-threads" }).first().waitFor({ timeout: 60_000 });
    await page.getByRole("heading", { name: /Create a thread/ }).first().waitFor();
    await page.getByText("/v1/threads/{id}/fork").first().waitFor();
    expect(fromWorker).toContain("/openapi.json");
    await page.screenshot({ path: `${SCREENSHOTS}docs.png` });
    expect(errors).toEqual([]);
    // Nothing was needed from outside: the page asked for nothing beyond the Worker.
    expect(blocked).toEqual([]);
    await context.close();
  });

  it("asks for an API key when the deployment has keys, keeps it, and connects the socket with a ticket", async () => {
    const { context, blocked } = await isolatedContext(browser, worker.url);
    const page = await context.newPage();
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    await page.goto(worker.url);
    const key = page.getByRole("textbox", { name: "API key" });
    const reason = page.locator("#key-reason");
    await key.waitFor();
    expect(await reason.textContent()).not.toContain("Incorrect API key provided.");
    await key.fill("sk-wrong");
    await page.getByRole("button", { name: "Save key", exact: true }).click();
    // The form's explanation is replaced by the server's own 401 message (before, it only says a key is needed).
    await reason.filter({ hasText: "Incorrect API key provided." }).waitFor();
    expect(await key.isVisible()).toBe(true);

    await key.fill(KEY);
    await page.getByRole("button", { name: "Save key", exact: true }).click();
    await key.waitFor({ state: "hidden" });
    await page.getByRole("textbox", { name: "Message" }).fill("hello with a key");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.getByRole("log").getByRole("article", { name: "Assistant" }).filter({ hasText: "hello with a key" }).waitFor();
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of sockets) expect(url).toMatch(/[?&]ticket=wst_/);
    // The key stays in this browser: a reload goes straight to the thread.
    await page.reload();
    await page.getByRole("log").getByRole("article", { name: "Assistant" }).filter({ hasText: "hello with a key" }).waitFor();
    expect(await key.isVisible()).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem("durable-threads.apiKey"))).toBe(KEY);
    expect(blocked).toEqual([]);
    await context.close();
  });
});
