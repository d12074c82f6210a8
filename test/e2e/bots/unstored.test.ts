/**
 * Nothing is acknowledged unwritten: when the thread's object cannot store a
 * message (here every write fails, because BOT_SESSION_IDLE_SECONDS is
 * invalid), the webhook answers 5xx and lifts Chat SDK's dedupe marks, so the
 * platform's redelivery is processed again instead of dropped as a duplicate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOT_USER, MockTelegram, textUpdate } from "../../mock/telegram.ts";
import { openAiError } from "../client.ts";
import { startBotWorld, type BotWorld } from "./helpers.ts";

const TOKEN = "222:UNSTORED";
const SECRET = "unstored-secret";
const telegram = new MockTelegram(TOKEN);
let world: BotWorld;

beforeAll(async () => {
  world = await startBotWorld(telegram.handle, (origin) => ({
    TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET_TOKEN: SECRET, TELEGRAM_BOT_USERNAME: BOT_USER.username, TELEGRAM_API_BASE_URL: origin,
  }), { instructions: "unused", idleSeconds: "0" });
});

afterAll(async () => {
  await world?.dispose();
});

describe("POST /webhooks/telegram when the message cannot be stored", () => {
  it("answers 503 every time Telegram delivers it, never 200, and calls no upstream", async () => {
    const update = textUpdate(5151, "Will this be kept?");
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await fetch(`${world.worker.url}/webhooks/telegram`, {
        method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(update),
      });
      expect(res.status).toBe(503);
      expect(openAiError({ status: res.status, headers: res.headers, body: await res.json() }).code).toBe("bot_update_not_stored");
    }
    expect(world.upstream.mock.chatRequests()).toHaveLength(0);
    expect((await world.api("GET", "/v1/threads/telegram:5151")).status).toBe(404);
  });
});
