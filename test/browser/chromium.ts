/**
 * Debian's Chromium driven by playwright-core, for the browser tests. The
 * binary is CHROMIUM_PATH or /usr/bin/chromium (`.ci/run` installs it with
 * apt). Without it the browser tests are skipped, loudly, except in CI
 * (CI=true), where a missing browser fails the run.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { describe, it } from "vitest";
import { ROOT } from "../e2e/harness.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

/** Where the runs' screenshots go (dist/ is not committed; docs/screenshots/ holds the chosen ones). */
export const SCREENSHOTS = `${ROOT}dist/screenshots/`;

/**
 * `describe` when Chromium is there; otherwise a skipped suite whose name says
 * why, a banner on stderr, and in CI a failing test instead.
 */
export function describeInBrowser(name: string, fn: () => void): void {
  if (HAS_CHROMIUM) {
    describe(name, fn);
    return;
  }
  const banner = `\n${"!".repeat(78)}\n!! NO CHROMIUM at ${CHROMIUM_PATH}: the browser tests "${name}" are SKIPPED.\n!! Install it (apt-get install -y chromium) or set CHROMIUM_PATH.\n${"!".repeat(78)}\n`;
  console.error(banner);
  if (process.env.CI) {
    describe(name, () => it("has Chromium to run in (CI installs it in .ci/run)", () => {
      throw new Error(banner);
    }));
    return;
  }
  describe.skip(`${name} (SKIPPED: no Chromium at ${CHROMIUM_PATH})`, fn);
}

/**
 * Launches Chromium headless. Playwright gives every launch a fresh, temporary
 * --user-data-dir of its own (it refuses one in `args`), so no profile state
 * carries over between runs.
 */
export async function launchChromium(): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 60_000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
      "--disable-component-update", "--disable-sync"],
  });
}

/**
 * A fresh browser context in which every request to anything but the Worker
 * is aborted (and recorded), so a page that needed the internet would break.
 */
export async function isolatedContext(browser: Browser, workerUrl: string): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const blocked: string[] = [];
  const origin = new URL(workerUrl).origin;
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("data:") || new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  return { context, blocked };
}

/** Collects the errors a page throws, so a test can assert there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}
