/**
 * The chat page as a user meets it, on `npm run dev` with the built-in dev/echo
 * model, in Debian's Chromium: what the page transfers (each file as the
 * browser received it, and its gzip size, which is what Cloudflare sends to a
 * browser that accepts it), and the time from pressing Send to the first
 * token on screen (measured inside the page: a click listener and a
 * MutationObserver on the transcript). The first send of a fresh page also
 * creates the thread and opens its socket; the later ones reuse them.
 *
 * Usage: npm run bench:browser [-- --sends N]. Writes bench/results/browser.json.
 */
import { writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { ROOT, startDevScript } from "../test/e2e/harness.ts";

const arg = process.argv.indexOf("--sends");
const SENDS = arg > 0 ? Number(process.argv[arg + 1]) : 20;
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

const dev = await startDevScript();
const browser = await chromium.launch({ executablePath, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"] });
try {
  const page = await browser.newPage();
  const files: { path: string; bytes: number; gzip: number }[] = [];
  page.on("response", async (res) => {
    const path = new URL(res.url()).pathname;
    if (path.startsWith("/v1/") || res.status() !== 200) return;
    const body = await res.body().catch(() => null);
    if (body) files.push({ path, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length });
  });
  await page.goto(`${dev.url}/`, { waitUntil: "networkidle" });

  /** Sends one message and resolves with ms from the click to the first text of the new reply; waits for the reply to finish. */
  const sendOnce = (text: string) => page.evaluate(async (text: string) => {
    const g = globalThis as any;
    const doc = g.document;
    const messages = doc.getElementById("messages");
    const before = messages.querySelectorAll("article.assistant").length;
    const ms = await new Promise<number>((resolve) => {
      let t0 = 0;
      const observer = new g.MutationObserver(() => {
        const replies = messages.querySelectorAll("article.assistant");
        const last = replies[replies.length - 1];
        if (replies.length > before && last.querySelector(".content").textContent.trim() !== "") {
          observer.disconnect();
          resolve(g.performance.now() - t0);
        }
      });
      observer.observe(messages, { childList: true, subtree: true, characterData: true });
      doc.getElementById("message").value = text;
      t0 = g.performance.now();
      doc.getElementById("send").click();
    });
    while (doc.querySelectorAll("#messages article.assistant[data-status=in_progress]").length > 0 || doc.getElementById("stop").disabled === false) {
      await new Promise((r) => g.setTimeout(r, 20));
    }
    return ms;
  }, text);

  const first = await sendOnce("first message: creates the thread");
  const later: number[] = [];
  for (let i = 0; i < SENDS; i++) later.push(await sendOnce(`message ${i + 2}`));
  const result = {
    date: new Date().toISOString(),
    server: "npm run dev (wrangler dev, local workerd), model dev/echo",
    page: {
      files,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      gzip: files.reduce((n, f) => n + f.gzip, 0),
    },
    sendToFirstTokenMs: { firstSendNewThread: round(first), median: round(median(later)), max: round(Math.max(...later)), sends: later.length },
  };
  console.log(JSON.stringify(result, null, 2));
  await writeFile(`${ROOT}bench/results/browser.json`, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await browser.close();
  await dev.dispose();
}
