/**
 * The chat page in a real browser (Debian's Chromium) against the Worker under
 * wrangler, with the mock upstream streaming replies word by word.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { apiClient, type Api } from "../e2e/client.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "../e2e/harness.ts";
import { echoReply } from "../mock/upstream.ts";
import { describeInBrowser, isolatedContext, launchChromium, pageErrors, SCREENSHOTS } from "./chromium.ts";

/** A reply of 60 numbered words, so a repeated or missing delta shows. */
const WORDS = Array.from({ length: 60 }, (_, i) => `w${String(i + 1).padStart(3, "0")}`);
const LONG_REPLY = WORDS.join(" ");

describeInBrowser("the chat page", () => {
  let served: ServedMock;
  let worker: RunningWorker;
  let browser: Browser;
  let api: Api;
  let context: BrowserContext;
  let blocked: string[];

  beforeAll(async () => {
    served = await serveMockUpstream();
    worker = await startWorker({ vars: mockUpstreamVars(served) });
    api = apiClient(worker.url);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.dispose();
    await served?.close();
  });
  beforeEach(async () => {
    served.mock.reset();
    served.mock.reply = echoReply;
    served.mock.chunkDelayMs = 20;
    ({ context, blocked } = await isolatedContext(browser, worker.url));
  });
  afterEach(async () => {
    await context.close();
    expect(blocked).toEqual([]);
  });

  const log = (page: Page) => page.getByRole("log");
  const replies = (page: Page) => log(page).getByRole("article", { name: "Assistant" });
  const threadOf = (page: Page) => new URL(page.url()).searchParams.get("thread")!;

  async function open(path = "/"): Promise<Page> {
    const page = await context.newPage();
    await page.goto(worker.url + path);
    return page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByRole("textbox", { name: "Message" }).fill(text);
    await page.getByRole("button", { name: "Send", exact: true }).click();
  }

  /** The stored messages of a thread, oldest first (one page is enough for these tests). */
  async function stored(threadId: string): Promise<any[]> {
    const res = await api("GET", `/v1/threads/${threadId}/messages?limit=100`);
    expect(res.status).toBe(200);
    return res.body.data;
  }

  it("sends a message and shows the reply as it streams, then as stored", async () => {
    served.mock.reply = () => LONG_REPLY;
    served.mock.chunkDelayMs = 40;
    const page = await open();
    const errors = pageErrors(page);
    await send(page, "Hello, page!");
    await log(page).getByRole("article", { name: "You" }).filter({ hasText: "Hello, page!" }).waitFor();
    // Mid-stream: part of the reply is on screen while the message is still being written.
    const reply = replies(page).first();
    await expect.poll(async () => (await reply.getAttribute("data-status")) === "in_progress" && (await reply.innerText()).includes("w005"),
      { timeout: 20_000 }).toBe(true);
    expect(await reply.innerText()).not.toContain("w060");
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
    const messages = await stored(threadOf(page));
    expect(messages.map((m) => [m.role, m.content])).toEqual([["user", "Hello, page!"], ["assistant", LONG_REPLY]]);
    expect((await reply.locator(".content").innerText()).trim()).toBe(LONG_REPLY);
    // The new thread is in the list, named after the first message.
    await page.getByRole("navigation", { name: "Threads" }).getByRole("link", { name: "Hello, page!" }).waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}chat.png` });
    expect(errors).toEqual([]);
  });

  it("shows a turn to every tab on the thread, whether it was started in one of them or over REST", async () => {
    const a = await open();
    await send(a, "first, from tab A");
    await replies(a).filter({ hasText: "first, from tab A" }).waitFor();
    const id = threadOf(a);
    const b = await open(`/?thread=${id}`);
    await replies(b).filter({ hasText: "first, from tab A" }).waitFor();

    await send(a, "second, from tab A");
    for (const page of [a, b]) await replies(page).filter({ hasText: "second, from tab A" }).waitFor();

    const rest = await api("POST", `/v1/threads/${id}/turns`, { input: "third, over REST" });
    expect(rest.status).toBe(200);
    for (const page of [a, b]) {
      await log(page).getByRole("article", { name: "You" }).filter({ hasText: "third, over REST" }).waitFor();
      await replies(page).filter({ hasText: "third, over REST" }).waitFor();
      await expect.poll(() => log(page).getByRole("article").count()).toBe(6);
    }
  });

  it("resumes after the network drops mid-reply: the text on screen equals the stored message, no word repeated or lost", async () => {
    served.mock.reply = () => LONG_REPLY;
    served.mock.chunkDelayMs = 60;
    const page = await open();
    const sockets: string[] = [];
    const deltasPerSocket: number[] = [];
    page.on("websocket", (ws) => {
      const i = sockets.push(ws.url()) - 1;
      deltasPerSocket[i] = 0;
      ws.on("framereceived", (f) => {
        if (String(f.payload).includes('"message.delta"')) deltasPerSocket[i]!++;
      });
    });
    await send(page, "tell me sixty words");
    const reply = replies(page).first();
    await expect.poll(() => reply.innerText(), { timeout: 20_000 }).toContain("w005");
    await context.setOffline(true);
    await page.waitForTimeout(1_500);
    await context.setOffline(false);
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 40_000 }).toBe("completed");
    const shown = (await reply.locator(".content").innerText()).trim();
    const message = (await stored(threadOf(page))).find((m) => m.role === "assistant");
    expect(shown).toBe(message.content);
    expect(shown.split(" ")).toEqual(WORDS);
    // It really reconnected, asked for the events after the last one it had, and the words it
    // missed while offline came from that replay: no socket saw the whole reply.
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(sockets.at(-1)).toMatch(/[?&]after=\d+/);
    expect(deltasPerSocket.at(-1)).toBeGreaterThan(0);
    expect(Math.max(...deltasPerSocket)).toBeLessThan(WORDS.length);
  });

  it("keeps the partial reply as incomplete when Stop is pressed, and Retry runs the turn again", async () => {
    served.mock.reply = () => LONG_REPLY;
    served.mock.chunkDelayMs = 100;
    const page = await open();
    await send(page, "Tell me about **streaming** and `Stop`");
    const reply = replies(page).first();
    await expect.poll(() => reply.innerText(), { timeout: 20_000 }).toContain("w003");
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 20_000 }).toBe("incomplete");
    await reply.getByText("Incomplete").waitFor();
    const message = (await stored(threadOf(page))).find((m) => m.role === "assistant");
    expect(message.status).toBe("incomplete");
    expect(message.content.length).toBeGreaterThan(0);
    expect(message.content.length).toBeLessThan(LONG_REPLY.length);
    // Markdown drops the trailing space the last word was streamed with.
    expect((await reply.locator(".content").innerText()).trim()).toBe(message.content.trim());
    expect(await page.getByRole("button", { name: "Stop", exact: true }).isDisabled()).toBe(true);

    served.mock.reply = echoReply;
    served.mock.chunkDelayMs = 0;
    await reply.getByRole("button", { name: "Retry", exact: true }).click();
    // The retry's reply echoes the question, rendered as Markdown.
    await replies(page).filter({ hasText: "Tell me about streaming and Stop" }).waitFor();
    expect(await replies(page).nth(1).getAttribute("data-status")).toBe("completed");
    expect(await replies(page).nth(1).locator("strong").innerText()).toBe("streaming");
    await page.screenshot({ path: `${SCREENSHOTS}chat-stopped.png` });
  });

  it("shows a failed turn as failed, with a retry that works", async () => {
    served.mock.fail({ kind: "status", status: 500 });
    const page = await open();
    await send(page, "this one fails first");
    const failed = log(page).getByText(/^Failed/);
    await failed.waitFor({ timeout: 20_000 });
    // No word of a reply was stored, yet after a reload the turn still shows as failed.
    await page.reload();
    await log(page).getByRole("article", { name: "You" }).filter({ hasText: "this one fails first" }).waitFor();
    await failed.waitFor({ timeout: 20_000 });
    expect(await replies(page).count()).toBe(0);
    await log(page).getByRole("button", { name: "Retry", exact: true }).click();
    await replies(page).filter({ hasText: "this one fails first" }).waitFor();
  });

  it("renders HTML and javascript: links in messages as text, and runs nothing", async () => {
    const page = await open();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const payload = `<img src=x onerror="window.__xss=1;alert(1)"> and [click me](javascript:window.__xss=2) and <script>window.__xss=3</script>`;
    await send(page, payload);
    const reply = replies(page).first();
    await expect.poll(() => reply.getAttribute("data-status"), { timeout: 20_000 }).toBe("completed");
    for (const article of [log(page).getByRole("article", { name: "You" }).first(), reply]) {
      const text = await article.innerText();
      expect(text).toContain("<img src=x onerror=");
      expect(text).toContain("javascript:window.__xss=2");
    }
    expect(await log(page).locator("img, script, iframe, [onerror]").count()).toBe(0);
    expect(await log(page).locator('a[href^="javascript"]').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it("opens /?thread=<id> with the newest page of messages, and loads older ones page by page", async () => {
    const id = `paged-${Date.now().toString(36)}`;
    expect((await api("POST", "/v1/threads", { id, metadata: { title: "Sixty messages" } })).status).toBe(201);
    for (let i = 1; i <= 60; i++) {
      const res = await api("POST", `/v1/threads/${id}/messages`, { role: i % 2 ? "user" : "assistant", content: `m${String(i).padStart(2, "0")}` });
      expect(res.status).toBe(201);
    }
    const page = await open(`/?thread=${id}`);
    await page.getByRole("heading", { name: "Sixty messages" }).waitFor();
    const articles = log(page).getByRole("article");
    await expect.poll(() => articles.count()).toBe(50);
    expect(await articles.first().innerText()).toContain("m11");
    await page.getByRole("button", { name: "Load older messages", exact: true }).click();
    await expect.poll(() => articles.count()).toBe(60);
    expect(await articles.first().innerText()).toContain("m01");
    expect(await articles.last().innerText()).toContain("m60");
    expect(await page.getByRole("button", { name: "Load older messages", exact: true }).isHidden()).toBe(true);
  });

  it("pages the thread list with More threads, and keeps it current through a turn without re-reading it", async () => {
    const prefix = `many-${Date.now().toString(36)}`;
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) {
      const res = await api("POST", "/v1/threads", { id: `${prefix}-${String(i).padStart(2, "0")}`, metadata: { title: `${prefix} ${i}` } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const page = await open();
    const lists: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "GET" && new URL(r.url()).pathname === "/v1/threads") lists.push(r.url());
    });
    const threads = page.getByRole("navigation", { name: "Threads" });
    const links = threads.getByRole("link");
    await expect.poll(() => links.count()).toBe(50);
    // The oldest of the 55 is not on the first page; More threads brings it in, continuing after the last shown.
    expect(await threads.getByRole("link", { name: `${prefix} 0`, exact: true }).count()).toBe(0);
    await threads.getByRole("button", { name: "More threads", exact: true }).click();
    await threads.getByRole("link", { name: `${prefix} 0`, exact: true }).waitFor();
    expect(new URL(lists.at(-1)!).searchParams.get("after")).toBeTruthy();
    const shown = await links.allInnerTexts();
    expect(new Set(shown).size).toBe(shown.length);

    // A turn in the oldest thread moves its entry first, from the socket's events, with no new listing.
    const listedBefore = lists.length;
    await threads.getByRole("link", { name: `${prefix} 0`, exact: true }).click();
    await page.getByRole("heading", { name: `${prefix} 0` }).waitFor();
    await send(page, "activity in an old thread");
    await replies(page).filter({ hasText: "activity in an old thread" }).waitFor();
    await expect.poll(() => links.first().innerText()).toBe(`${prefix} 0`);
    expect(lists.length).toBe(listedBefore);
  });

  it("creates, renames and deletes threads from the list", async () => {
    const page = await open();
    await send(page, "named by its first message");
    await replies(page).first().waitFor();
    const id = threadOf(page);
    const threads = page.getByRole("navigation", { name: "Threads" });
    page.once("dialog", (d) => void d.accept("Renamed thread"));
    await threads.getByRole("button", { name: "Rename named by its first message" }).click();
    await threads.getByRole("link", { name: "Renamed thread" }).waitFor();
    expect((await api("GET", `/v1/threads/${id}`)).body.metadata.title).toBe("Renamed thread");

    await threads.getByRole("button", { name: "New chat", exact: true }).click();
    await expect.poll(() => log(page).getByRole("article").count()).toBe(0);
    expect(new URL(page.url()).searchParams.get("thread")).toBeNull();

    page.once("dialog", (d) => void d.accept());
    await threads.getByRole("button", { name: "Delete Renamed thread" }).click();
    await expect.poll(() => threads.getByRole("link", { name: "Renamed thread" }).count()).toBe(0);
    expect((await api("GET", `/v1/threads/${id}`)).status).toBe(404);
  });
});
