/**
 * Bot turns count against the tenant's turn rate limit (TURN_LIMIT, here 2 a
 * minute): a message over the limit is not stored, the chat is told to try
 * again in a minute, and the webhook answers 200 so Telegram does not redeliver
 * it into the same limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoReply } from "../../mock/upstream.ts";
import { BOT_USER, MockTelegram, textUpdate } from "../../mock/telegram.ts";
import { startBotWorld, type BotWorld, chatIds, eventually, quietFor } from "./helpers.ts";

const TOKEN = "123456:TEST-limit";
const SECRET = "webhook-secret-limit";
const telegram = new MockTelegram(TOKEN);
let world: BotWorld;
const nextChat = chatIds(700);

beforeAll(async () => {
  world = await startBotWorld(telegram.handle, (origin) => ({
    TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET_TOKEN: SECRET, TELEGRAM_BOT_USERNAME: BOT_USER.username, TELEGRAM_API_BASE_URL: origin,
  }), { instructions: "You are a limited bot.", idleSeconds: "3600", turnLimit: 2 });
  world.upstream.mock.reply = echoReply;
});

afterAll(async () => {
  await world?.dispose();
});

function deliver(body: unknown): Promise<Response> {
  return fetch(`${world.worker.url}/webhooks/telegram`, {
    method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(body),
  });
}

const shown = (chat: number) => telegram.chat(chat).map((m) => m.text);

describe("bot turns and TURN_LIMIT", () => {
  it("refuses the message over the tenant's limit with a short notice, storing nothing and asking for no redelivery", async () => {
    // The local engine counts in fixed one-minute windows aligned to the clock (miniflare's
    // rate-limit object): start early in one, so that the whole test runs inside it.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 25_000) await new Promise((r) => setTimeout(r, left + 250));
    const chat = nextChat();
    const other = nextChat();
    expect((await deliver(textUpdate(chat, "one"))).status).toBe(200);
    await eventually("the first reply", () => shown(chat)[0]?.startsWith("echo") || null);
    // Another chat of the same bot is the same tenant: it takes the second turn.
    expect((await deliver(textUpdate(other, "two"))).status).toBe(200);
    await eventually("the second reply", () => shown(other)[0]?.startsWith("echo") || null);
    const requests = world.upstream.mock.chatRequests().length;

    expect((await deliver(textUpdate(chat, "three"))).status).toBe(200);
    const notice = await eventually("the notice", () => shown(chat)[1] ?? null);
    expect(notice).toMatch(/too many messages.*try again in a minute/i);
    await quietFor(1500);
    expect(shown(chat)).toHaveLength(2);
    expect(world.upstream.mock.chatRequests()).toHaveLength(requests);
    const messages = await world.api("GET", `/v1/threads/telegram:${chat}/messages`);
    expect(messages.body.data.map((m: any) => m.content)).toEqual(["one", "echo(2): one"]);
    // A chat with no thread yet gets none made for a refused message.
    const fresh = nextChat();
    expect((await deliver(textUpdate(fresh, "hello"))).status).toBe(200);
    await eventually("the notice", () => shown(fresh)[0] ?? null);
    expect((await world.api("GET", `/v1/threads/telegram:${fresh}`)).status).toBe(404);
  });
});
