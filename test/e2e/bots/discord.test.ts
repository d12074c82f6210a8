/**
 * A Discord bot end to end: interactions signed with an Ed25519 key pair made
 * here (as Discord signs them) → the Worker → the channel's thread object → the
 * mock upstream, and answers through the interaction webhook of a mock Discord
 * REST API on 127.0.0.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { discordId, interactionKeys, MockDiscord } from "../../mock/discord.ts";
import { echoReply } from "../../mock/upstream.ts";
import type { Api } from "../client.ts";
import type { RunningWorker, ServedMock } from "../harness.ts";
import { startBotWorld, type BotWorld, eventually, quietFor } from "./helpers.ts";

const APP_ID = "1100000000000000001";
const BOT_TOKEN = "discord-bot-token";
const GUILD = "1200000000000000001";

const discord = new MockDiscord(APP_ID, BOT_TOKEN);
const keys = interactionKeys();
let world: BotWorld;
let upstream: ServedMock;
let worker: RunningWorker;
let api: Api;

beforeAll(async () => {
  world = await startBotWorld(discord.handle, (origin) => ({
    DISCORD_BOT_TOKEN: BOT_TOKEN, DISCORD_PUBLIC_KEY: keys.publicKeyHex, DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: `${origin}/api/v10`,
  }), { instructions: "You are a Discord test bot.", idleSeconds: "3600" });
  ({ upstream, worker, api } = world);
});

afterAll(async () => {
  await world?.dispose();
});

beforeEach(() => {
  upstream.mock.reply = echoReply;
});

/** An APPLICATION_COMMAND interaction (type 2) for /name in a guild channel, as Discord posts it. */
function command(channel: string, name: string, text?: string) {
  return {
    id: discordId(), application_id: APP_ID, type: 2, token: `itok-${discordId()}`, version: 1, guild_id: GUILD, channel_id: channel,
    channel: { id: channel, type: 0, guild_id: GUILD },
    member: { user: { id: "1300000000000000001", username: "ada", global_name: "Ada" }, roles: [], permissions: "0" },
    data: { id: discordId(), name, type: 1, ...(text ? { options: [{ name: "text", type: 3, value: text }] } : {}) },
  };
}

/**
 * Posts an interaction, signed with the application's key (or with the
 * headers given); its answer reaches the mock Discord as Discord's own would.
 */
async function post(payload: unknown, headers?: Record<string, string>): Promise<Response> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${worker.url}/webhooks/discord`, { method: "POST", headers: { "content-type": "application/json", ...(headers ?? keys.headers(body)) }, body });
  const token = (payload as { token?: unknown }).token;
  if (res.ok && typeof token === "string") discord.acknowledge(token, (await res.clone().json()) as { type?: number });
  return res;
}

/** Sends /ask and answers what the user finally sees in reply. */
async function ask(channel: string, text: string): Promise<string[]> {
  const interaction = command(channel, "ask", text);
  const started = Date.now();
  const res = await post(interaction);
  expect(res.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(await res.json()).toMatchObject({ type: 5 });
  // The answer streams (edits of the original message): it is whole once it shows the thread's reply.
  const threadId = `discord:${GUILD}:${channel}`;
  return eventually(`the answer to /ask ${text}`, async () => {
    const seen = discord.answersTo(interaction.token);
    if (!seen.length || !seen.every(Boolean)) return null;
    if (seen[0]!.startsWith("Sorry")) return seen;
    const reply = (await api("GET", `/v1/threads/${threadId}/messages?order=desc&limit=1`)).body.data?.[0];
    return reply?.role === "assistant" && reply.content === seen.join("\n\n") ? seen : null;
  });
}

describe("POST /webhooks/discord", () => {
  it("answers Discord's signed PING with a PONG", async () => {
    const res = await post({ id: discordId(), application_id: APP_ID, type: 1, token: "ping", version: 1 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it("refuses an interaction with a bad or missing signature with 401, storing and calling nothing", async () => {
    const channel = discordId();
    const interaction = command(channel, "ask", "hello");
    const forged = interactionKeys().headers(JSON.stringify(interaction));
    const before = upstream.mock.requests.length;
    expect((await post(interaction, forged)).status).toBe(401);
    expect((await post(interaction, {})).status).toBe(401);
    await quietFor(1500);
    expect(upstream.mock.requests.length).toBe(before);
    expect(discord.answersTo(interaction.token)).toEqual([]);
    expect((await api("GET", `/v1/threads/discord:${GUILD}:${channel}`)).status).toBe(404);
  });

  it("holds a conversation over /ask with its history, deferring within 3 s and answering in place", async () => {
    const channel = discordId();
    expect(await ask(channel, "My name is Ada.")).toEqual(["echo(2): My name is Ada."]);
    expect(await ask(channel, "What is my name?")).toEqual(["echo(4): What is my name?"]);
    const messages = await api("GET", `/v1/threads/discord:${GUILD}:${channel}/messages`);
    expect(messages.body.data.map((m: any) => m.content)).toEqual(["My name is Ada.", "echo(2): My name is Ada.", "What is my name?", "echo(4): What is my name?"]);
  });

  it("answers a redelivered interaction (same ID) once", async () => {
    const channel = discordId();
    const interaction = command(channel, "ask", "Only once.");
    expect((await post(interaction)).status).toBe(200);
    expect((await post(interaction)).status).toBe(200);
    await eventually("the answer", () => discord.answersTo(interaction.token).length === 1 || null);
    await quietFor(2000);
    expect(discord.answersTo(interaction.token)).toEqual(["echo(2): Only once."]);
    expect(upstream.mock.chatRequests().filter((r) => r.body.messages.at(-1).content === "Only once.")).toHaveLength(1);
  });

  it("starts a new session on /new, with a confirmation", async () => {
    const channel = discordId();
    await ask(channel, "Remember 7.");
    const reset = command(channel, "new");
    // The confirmation edits the original message, which exists only once Discord has this answer,
    // and a 429 on it must not hold the answer past Discord's 3 seconds.
    discord.rateLimitNext(4);
    const started = Date.now();
    expect((await post(reset)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    const confirmation = await eventually("the confirmation", () => discord.answersTo(reset.token)[0] ?? null);
    expect(confirmation).toMatch(/new conversation/i);
    expect(await ask(channel, "Which number?")).toEqual(["echo(2): Which number?"]);
  });

  it("splits a reply over 2,000 characters into follow-ups, and waits out a 429's retry_after", async () => {
    const channel = discordId();
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Part ${i} ` + "words to fill the message ".repeat(20).trim());
    upstream.mock.reply = () => paragraphs.join("\n\n");
    discord.rateLimitNext(1.5);
    const seen = await ask(channel, "Say a lot.");
    const all = await eventually("every part", () => {
      const parts = discord.answersTo(discord.answers.find((a) => a.content === seen[0])!.token);
      return parts.join("\n\n") === paragraphs.join("\n\n") ? parts : null;
    });
    expect(all.length).toBeGreaterThan(1);
    for (const part of all) expect(part.length).toBeLessThanOrEqual(2000);
    const hooks = discord.calls.filter((c) => c.path.startsWith(`/webhooks/${APP_ID}/`));
    const at = hooks.findLastIndex((c) => c.limited);
    const [limited, retried] = [hooks[at], hooks[at + 1]];
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(1_500);
  });

  it("shows a slow reply as it grows: the deferred message edited with more text, then the whole", async () => {
    const channel = discordId();
    upstream.mock.chunkDelayMs = 800;
    upstream.mock.reply = () => "one two three four five six";
    try {
      const interaction = command(channel, "ask", "Slowly.");
      expect((await post(interaction)).status).toBe(200);
      await eventually("the whole reply", () => discord.answersTo(interaction.token)[0] === "one two three four five six" || null, 30_000);
      const shown = discord.calls.filter((c) => c.method === "PATCH" && c.path.includes(interaction.token) && c.body?.content).map((c) => c.body.content as string);
      expect(shown.length).toBeGreaterThan(1);
      expect(shown[0]!.length).toBeLessThan("one two three four five six".length);
      expect(discord.answersTo(interaction.token)).toEqual(["one two three four five six"]);
    } finally {
      upstream.mock.chunkDelayMs = 0;
    }
  });

  it("apologises when the upstream fails", async () => {
    upstream.mock.fail({ kind: "status", status: 500 });
    expect((await ask(discordId(), "Anyone?"))[0]).toMatch(/^Sorry/);
  });
});
