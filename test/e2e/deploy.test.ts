/**
 * The deployment, checked offline: `npm run deploy` is `wrangler deploy`, and
 * its dry run (no Cloudflare login, no network) must produce a bundle within
 * Cloudflare's Worker size limit for the paid plan (10 MB after compression)
 * whose global scope starts well inside the 1-second start-up limit.
 * (Cloudflare docs, "Workers: Limits": Worker size, Worker startup time.)
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const run = promisify(execFile);

/** Cloudflare's Worker size limit on the paid plan: 10 MB after compression. */
const SIZE_LIMIT_BYTES = 10 * 1024 * 1024;
/**
 * Cloudflare refuses a Worker whose global scope takes more than 1 second to
 * start. Local CPU differs from Cloudflare's, and this machine may be loaded,
 * so the bar is well below: a quarter of the limit.
 */
const STARTUP_BAR_MS = 250;

/** Wrangler with no credentials and a config home of its own: nothing it does can depend on a login. */
async function wrangler(scratch: string, ...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false",
    XDG_CONFIG_HOME: join(scratch, "config"), HOME: join(scratch, "home") };
  for (const name of ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_ACCOUNT_ID"]) delete env[name];
  const { stdout, stderr } = await run(join(ROOT, "node_modules/.bin/wrangler"), args, { cwd: ROOT, env, timeout: 120_000, maxBuffer: 16 << 20 });
  return stdout + stderr;
}

/** CPU time (ms) in a V8 CPU profile outside the idle node: what the Worker's start-up itself used. */
function activeMs(profile: { nodes: { id: number; callFrame: { functionName: string } }[]; samples: number[]; timeDeltas: number[] }): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  return profile.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : profile.timeDeltas[i]! / 1000), 0);
}

describe("npm run deploy", () => {
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "durable-threads-deploy-"));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("is `wrangler deploy`", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.deploy).toBe("wrangler deploy");
  });

  it("bundles offline, without a login, to well under 10 MB compressed, with its bindings", async () => {
    const outdir = join(scratch, "out");
    const output = await wrangler(scratch, "deploy", "--dry-run", "--outdir", outdir);
    expect(output).toContain("--dry-run: exiting now.");
    for (const binding of ["env.THREADS (ThreadObject)", "env.DIRECTORY (DirectoryObject)", "env.BOT_STATE (BotStateObject)"]) expect(output).toContain(binding);
    // The turn limit's period is the Retry-After a refused turn gets (src/thread/tenantLink.ts, TURN_LIMIT_PERIOD_S).
    expect(output).toMatch(/env\.TURN_LIMIT \(\d+ requests\/60s\)/);
    // What is uploaded: every module (source maps are not uploaded unless configured).
    const files = (await readdir(outdir)).filter((f) => !f.endsWith(".map") && f !== "README.md");
    const modules = await Promise.all(files.map((f) => readFile(join(outdir, f))));
    const gzipped = modules.reduce((sum, m) => sum + gzipSync(m, { level: 9 }).length, 0);
    const raw = modules.reduce((sum, m) => sum + m.length, 0);
    console.log(`deploy bundle: ${files.length} modules, ${(raw / 1024).toFixed(0)} KiB, ${(gzipped / 1024).toFixed(0)} KiB gzipped`);
    expect(files).toContain("index.js");
    expect(gzipped).toBeLessThan(SIZE_LIMIT_BYTES);
  });

  it("starts its global scope well inside the start-up limit (wrangler check startup's CPU profile)", async () => {
    const outfile = join(scratch, "startup.cpuprofile");
    await wrangler(scratch, "check", "startup", "--outfile", outfile);
    const ms = activeMs(JSON.parse(await readFile(outfile, "utf8")));
    console.log(`start-up CPU time (local): ${ms.toFixed(1)} ms`);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(STARTUP_BAR_MS);
  });
});
