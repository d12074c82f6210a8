/** `npm run bots:register -- <url>` against the mock platforms: what it asks each platform to do. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockDiscord } from "../../mock/discord.ts";
import { MockTelegram } from "../../mock/telegram.ts";
import { ROOT, serveHandler } from "../harness.ts";

const run = promisify(execFile);
const SCRIPT = join(ROOT, "scripts/bots-register.ts");

let telegram: MockTelegram;
let discord: MockDiscord;
const servers: { origin: string; close(): Promise<void> }[] = [];

beforeAll(async () => {
  telegram = new MockTelegram("111:REGISTER");
  discord = new MockDiscord("1400000000000000001", "discord-register-token");
  servers.push(await serveHandler(telegram.handle), await serveHandler(discord.handle));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Runs the script as `npm run bots:register` does (Node's type stripping), with only the given secrets. */
function register(url: string, env: Record<string, string>) {
  return run(process.execPath, [SCRIPT, url], { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 });
}

describe("npm run bots:register", () => {
  it("sets the Telegram webhook with the secret token and the update types used", async () => {
    const url = "https://bots.example.workers.dev/webhooks/telegram";
    const out = await register(url, { TELEGRAM_BOT_TOKEN: "111:REGISTER", TELEGRAM_WEBHOOK_SECRET_TOKEN: "the-secret", TELEGRAM_API_BASE_URL: servers[0]!.origin });
    expect(out.stdout).toContain(url);
    expect(telegram.callsOf("setWebhook").map((c) => c.body)).toEqual([{ url, secret_token: "the-secret", allowed_updates: ["message"] }]);
  });

  it("refuses to run without the secret it needs, naming it", async () => {
    const failed = await register("https://x.example/webhooks/telegram", { TELEGRAM_BOT_TOKEN: "111:REGISTER" }).catch((e: { stderr: string; code: number }) => e);
    expect("code" in failed && failed.code).toBe(1);
    expect((failed as { stderr: string }).stderr).toContain("TELEGRAM_WEBHOOK_SECRET_TOKEN");
  });

  it("registers Discord's /ask and /new commands and sets the Interactions Endpoint URL", async () => {
    const url = "https://bots.example.workers.dev/webhooks/discord";
    await register(url, { DISCORD_BOT_TOKEN: "discord-register-token", DISCORD_APPLICATION_ID: "1400000000000000001",
      DISCORD_API_URL: `${servers[1]!.origin}/api/v10` });
    const put = discord.calls.find((c) => c.method === "PUT")!;
    expect(put.path).toBe("/applications/1400000000000000001/commands");
    expect(put.body.map((c: { name: string }) => c.name)).toEqual(["ask", "new"]);
    expect(discord.calls.find((c) => c.method === "PATCH")!.body).toEqual({ interactions_endpoint_url: url });
  });

  it("prints the Slack steps with the URL to paste", async () => {
    const url = "https://bots.example.workers.dev/webhooks/slack";
    const out = await register(url, {});
    expect(out.stdout).toContain(`Request URL ${url}`);
    expect(out.stdout).toContain("app_mention");
  });
});
