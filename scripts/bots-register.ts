/**
 * `npm run bots:register -- https://<worker>/webhooks/<platform>`: connects a
 * bot to the deployed Worker. Telegram: calls setWebhook with the secret token
 * and the update types the bot uses. Discord: sets the application's
 * Interactions Endpoint URL and registers the /ask and /new commands. Slack
 * has no API for an app's request URLs: the steps are printed. Secrets are
 * read from the environment (the same names as the Worker's). Runs on Node's
 * type stripping, so this file is erasable TypeScript only.
 */

/** The update types the Telegram bot reads: messages (commands included). */
export const TELEGRAM_ALLOWED_UPDATES = ["message"];

/** Discord's application commands: /ask talks to the bot, /new starts a new session. */
export const DISCORD_COMMANDS = [
  { name: "ask", description: "Ask the bot", type: 1, options: [{ type: 3, name: "text", description: "Your message", required: true }] },
  { name: "new", description: "Start a new conversation", type: 1 },
];

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: export it (the same value as the Worker's secret) and run again.`);
  return v;
}

async function call(url: string, init: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url.replace(/bot[^/]+\//, "bot<token>/")} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function registerTelegram(url: string): Promise<void> {
  const base = (process.env.TELEGRAM_API_BASE_URL || "https://api.telegram.org").replace(/\/+$/, "");
  const result = await call(`${base}/bot${need("TELEGRAM_BOT_TOKEN")}/setWebhook`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url, secret_token: need("TELEGRAM_WEBHOOK_SECRET_TOKEN"), allowed_updates: TELEGRAM_ALLOWED_UPDATES }),
  });
  console.log(`Telegram: webhook set to ${url} (${JSON.stringify(result)}).`);
}

async function registerDiscord(url: string): Promise<void> {
  const base = (process.env.DISCORD_API_URL || "https://discord.com/api/v10").replace(/\/+$/, "");
  const headers = { "content-type": "application/json", authorization: `Bot ${need("DISCORD_BOT_TOKEN")}` };
  const app = need("DISCORD_APPLICATION_ID");
  await call(`${base}/applications/${app}/commands`, { method: "PUT", headers, body: JSON.stringify(DISCORD_COMMANDS) });
  // Discord sends a signed PING to the URL before it accepts it; the Worker must already be deployed with DISCORD_PUBLIC_KEY.
  await call(`${base}/applications/@me`, { method: "PATCH", headers, body: JSON.stringify({ interactions_endpoint_url: url }) });
  console.log(`Discord: commands /ask and /new registered; Interactions Endpoint URL set to ${url}.`);
}

function printSlackSteps(url: string): void {
  console.log(`Slack has no API to set an app's request URLs. At https://api.slack.com/apps → your app:
  1. Event Subscriptions: enable, Request URL ${url} (the Worker answers Slack's challenge),
     subscribe to bot events app_mention, message.im and message.channels.
  2. Slash Commands: create /new with Request URL ${url}.
  3. OAuth & Permissions: bot scopes app_mentions:read, chat:write, im:history, channels:history, commands; install the app,
     then 'wrangler secret put SLACK_BOT_TOKEN' (xoxb-…) and SLACK_SIGNING_SECRET (Basic Information).`);
}

/** Registers the webhook URL given on the command line with its platform. */
export async function main(argv: string[]): Promise<void> {
  const url = argv[0];
  const platform = url ? /\/webhooks\/(telegram|slack|discord)\/?$/.exec(new URL(url).pathname)?.[1] : undefined;
  if (!url || !platform) throw new Error("usage: npm run bots:register -- https://<worker>/webhooks/<telegram|slack|discord>");
  if (platform === "telegram") await registerTelegram(url);
  else if (platform === "discord") await registerDiscord(url);
  else printSlackSteps(url);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
