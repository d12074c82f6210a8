/**
 * A bot turn cut by a crash: the real `wrangler dev` is killed (SIGKILL to its
 * process group) while the thread's object waits on the upstream, then started
 * again on the same storage. The chat must not be left without an answer: the
 * object's alarm wakes it and the user gets a short notice.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BOT_USER, MockTelegram, textUpdate } from "../../mock/telegram.ts";
import { apiClient } from "../client.ts";
import { freePort, mockUpstreamVars, serveHandler, serveMockUpstream, startWranglerDev, type ServedMock, type WranglerDev } from "../harness.ts";
import { botVars, chatIds, eventually } from "./helpers.ts";

const TOKEN = "654321:RESTART";
const SECRET = "restart-secret-abcdef";

let upstream: ServedMock | undefined;
let telegramServer: { origin: string; close(): Promise<void> } | undefined;
let dev: WranglerDev | undefined;
let persistDir = "";

afterAll(async () => {
  await dev?.dispose();
  await telegramServer?.close();
  await upstream?.close();
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
});

describe("a Telegram turn interrupted by a restart", () => {
  it("is not silently lost: the chat is told to send its message again", async () => {
    upstream = await serveMockUpstream();
    const telegram = new MockTelegram(TOKEN);
    telegramServer = await serveHandler(telegram.handle);
    persistDir = await mkdtemp(join(tmpdir(), "durable-threads-bot-restart-"));
    const port = await freePort();
    const vars = {
      ...botVars(mockUpstreamVars(upstream), "You are a test bot.", "3600"),
      TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET_TOKEN: SECRET, TELEGRAM_BOT_USERNAME: BOT_USER.username,
      TELEGRAM_API_BASE_URL: telegramServer.origin,
    };
    dev = await startWranglerDev({ persistDir, vars, port });
    const chat = chatIds(900)();

    // The upstream never answers, so the turn is in flight when the process dies.
    upstream.mock.fail({ kind: "hang" });
    const res = await fetch(`${dev.url}/webhooks/telegram`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify(textUpdate(chat, "Are you still there?")),
    });
    expect(res.status).toBe(200);
    await eventually("the upstream call", () => upstream!.mock.chatRequests().length === 1 || null);
    await dev.kill();
    expect(telegram.chat(chat)).toHaveLength(0);

    dev = await startWranglerDev({ persistDir, vars, port });
    // Nothing calls the Worker now: only the object's own alarm can bring the notice.
    const texts = await eventually("the notice after the restart", () => telegram.chat(chat).map((m) => m.text)[0] ?? null, 60_000, 250);
    expect(texts).toMatch(/restarted/i);

    const api = apiClient(dev.url, { authorization: "Bearer sk-bots" });
    const messages = await api("GET", `/v1/threads/telegram:${chat}/messages`);
    const turn = await api("GET", `/v1/threads/telegram:${chat}/turns/${messages.body.data[0].turn_id}`);
    expect(turn.body.error.code).toBe("turn_interrupted");
    expect(telegram.chat(chat)).toHaveLength(1);
  }, 180_000);
});
