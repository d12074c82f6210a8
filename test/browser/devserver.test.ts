/** What a newcomer gets: `npm run dev` (which builds the page first), then the chat at / answering with dev/echo, offline. */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDevScript, type RunningWorker } from "../e2e/harness.ts";
import { describeInBrowser, isolatedContext, launchChromium, pageErrors } from "./chromium.ts";

describeInBrowser("npm run dev in a browser", () => {
  let dev: RunningWorker;
  let browser: Browser;
  beforeAll(async () => {
    dev = await startDevScript();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.dispose();
  });

  it("serves a working chat at / with the dev/echo model and nothing from outside", async () => {
    const { context, blocked } = await isolatedContext(browser, dev.url);
    const page = await context.newPage();
    const errors = pageErrors(page);
    await page.goto(`${dev.url}/`);
    // No keys in local development: no key field, straight to the chat.
    expect(await page.getByRole("textbox", { name: "API key" }).isVisible()).toBe(false);
    await page.getByRole("textbox", { name: "Message" }).fill("Hello from the browser");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const reply = page.getByRole("log").getByRole("article", { name: "Assistant" }).first();
    await reply.filter({ hasText: "You said: Hello from the browser" }).waitFor({ timeout: 30_000 });
    await expect.poll(() => reply.getAttribute("data-status")).toBe("completed");
    expect(await reply.innerText()).toContain("dev/echo");
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    await context.close();
  });
});
