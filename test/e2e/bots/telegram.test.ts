/**
 * A Telegram bot end to end: signed webhook updates in the Bot API's format →
 * the Worker under wrangler → the chat's thread object → the mock upstream, and
 * the replies to a mock Bot API server on 127.0.0.1 that answers as
 * api.telegram.org does. Asserts what the Telegram user would see.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { echoReply } from "../../mock/upstream.ts";
import { BOT_USER, MockTelegram, textUpdate as update } from "../../mock/telegram.ts";
import { apiClient, type Api } from "../client.ts";
import type { RunningWorker, ServedMock } from "../harness.ts";
import { connectSocket, closeAllSockets } from "../socket.ts";
import { startBotWorld, type BotWorld, chatIds, eventually, quietFor } from "./helpers.ts";

const TOKEN = "123456:TEST-token";
const SECRET = "webhook-secret-0123456789";
const INSTRUCTIONS = "You are a test bot.";
/** The Bot API methods that send a new message. */
const SENDS = ["sendMessage", "sendRichMessage"];

const telegram = new MockTelegram(TOKEN);
let world: BotWorld;
let upstream: ServedMock;
let worker: RunningWorker;
let api: Api;
const nextChat = chatIds(100);

beforeAll(async () => {
  world = await startBotWorld(telegram.handle, (origin) => ({
    TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET_TOKEN: SECRET, TELEGRAM_BOT_USERNAME: BOT_USER.username, TELEGRAM_API_BASE_URL: origin,
  }), { instructions: INSTRUCTIONS, idleSeconds: "8" });
  ({ upstream, worker, api } = world);
});

afterAll(async () => {
  await closeAllSockets();
  await world?.dispose();
});

beforeEach(() => {
  upstream.mock.chunkDelayMs = 0;
  upstream.mock.reply = echoReply;
});

/** Delivers an update to the webhook the way Telegram does, with the secret token header. */
function deliver(body: unknown, secret: string | null = SECRET): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== null) headers["x-telegram-bot-api-secret-token"] = secret;
  return fetch(`${worker.url}/webhooks/telegram`, { method: "POST", headers, body: JSON.stringify(body) });
}

/** Sends a message and waits until the chat shows `count` bot messages in total. */
async function say(chatId: number, text: string, count: number): Promise<string[]> {
  const res = await deliver(update(chatId, text));
  expect(res.status).toBe(200);
  return eventually(`${count} bot messages in chat ${chatId}`, () => {
    const texts = telegram.chat(chatId).map((m) => m.text);
    return texts.length >= count && texts.every((t) => t !== "...") ? texts : null;
  });
}

describe("POST /webhooks/telegram", () => {
  it("holds a two-message conversation with its history, typing first", async () => {
    const chat = nextChat();
    expect(await say(chat, "My name is Ada.", 1)).toEqual([`echo(2): My name is Ada.`]);
    expect(await say(chat, "What is my name?", 2)).toEqual([`echo(2): My name is Ada.`, `echo(4): What is my name?`]);
    const prompt = upstream.mock.chatRequests().at(-1)!.body.messages.map((m: any) => [m.role, m.content]);
    expect(prompt).toEqual([
      ["system", INSTRUCTIONS], ["user", "My name is Ada."], ["assistant", "echo(2): My name is Ada."], ["user", "What is my name?"],
    ]);
    expect(telegram.callsOf("sendChatAction").some((c) => c.body.chat_id == chat && c.body.action === "typing")).toBe(true);
  });

  it("refuses a wrong or missing secret token with 401 and stores and calls nothing", async () => {
    const chat = nextChat();
    const upstreamBefore = upstream.mock.requests.length;
    const telegramBefore = telegram.calls.length;
    for (const secret of ["wrong-secret", null, SECRET.slice(0, -1)]) {
      expect((await deliver(update(chat, "hello"), secret)).status).toBe(401);
    }
    await quietFor(1500);
    expect(upstream.mock.requests.length).toBe(upstreamBefore);
    expect(telegram.calls.length).toBe(telegramBefore);
    expect((await api("GET", `/v1/threads/telegram:${chat}`)).status).toBe(404);
  });

  it("answers a redelivered update once", async () => {
    const chat = nextChat();
    const first = update(chat, "Only once, please.");
    const answers = await Promise.all([deliver(first), deliver(first)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect((await deliver(first)).status).toBe(200);
    await eventually("the reply", () => telegram.chat(chat).length === 1 || null);
    await quietFor(2000);
    expect(telegram.chat(chat).map((m) => m.text)).toEqual(["echo(2): Only once, please."]);
    expect(upstream.mock.chatRequests().filter((r) => r.body.messages.at(-1).content === "Only once, please.")).toHaveLength(1);
    const messages = await api("GET", `/v1/threads/telegram:${chat}/messages`);
    expect(messages.body.data.map((m: any) => m.role)).toEqual(["user", "assistant"]);
  });

  it("answers the messages of one chat in the order they were sent", async () => {
    const chat = nextChat();
    upstream.mock.chunkDelayMs = 150;
    for (const text of ["one", "two", "three"]) expect((await deliver(update(chat, text))).status).toBe(200);
    const texts = await eventually("three replies", () => (telegram.chat(chat).length === 3 ? telegram.chat(chat).map((m) => m.text) : null), 30_000);
    expect(texts).toEqual(["echo(2): one", "echo(4): two", "echo(6): three"]);
  });

  it("starts a new session on /new, with a confirmation", async () => {
    const chat = nextChat();
    await say(chat, "Remember the number 7.", 1);
    const texts = await say(chat, "/new", 2);
    expect(texts[1]).toMatch(/new conversation/i);
    expect((await api("GET", `/v1/threads/telegram:${chat}`)).status).toBe(404);
    expect((await say(chat, "Which number?", 3))[2]).toBe("echo(2): Which number?");
  });

  it("does not let a redelivered /new wipe the session that began after it, and confirms once", async () => {
    const chat = nextChat();
    await say(chat, "Remember the number 7.", 1);
    const reset = update(chat, "/new");
    expect((await deliver(reset)).status).toBe(200);
    await eventually("the confirmation", () => telegram.chat(chat).length === 2 || null);
    await say(chat, "Remember the number 8.", 3);
    // Telegram delivers the /new again after Chat SDK's update claim was lifted (a 503 lifts it).
    // The claim cannot be lifted from here, so the same message comes under an update_id Chat SDK
    // has not claimed: only the thread object's own mark can tell it is a redelivery.
    expect((await deliver({ ...reset, update_id: update(chat, "unused").update_id })).status).toBe(200);
    await quietFor(2000);
    expect(telegram.chat(chat).map((m) => m.text).filter((t) => /new conversation/i.test(t))).toHaveLength(1);
    const messages = await api("GET", `/v1/threads/telegram:${chat}/messages`);
    expect(messages.body.data.map((m: any) => m.content)).toEqual(["Remember the number 8.", "echo(2): Remember the number 8."]);
  });

  it("greets /start briefly, and takes a command it does not know as an ordinary message", async () => {
    const chat = nextChat();
    const [greeting] = await say(chat, "/start", 1);
    expect(greeting).toMatch(/^Hello/);
    expect((await api("GET", `/v1/threads/telegram:${chat}`)).status).toBe(404);
    expect((await say(chat, "/help me please", 2))[1]).toBe("echo(2): /help me please");
    // In a group, a command not addressed to this bot is left alone; one addressed to it is a message.
    const group = -nextChat();
    expect((await deliver(update(group, "/help"))).status).toBe(200);
    expect((await deliver(update(group, `/help@${BOT_USER.username} now`, { entities: [{ type: "bot_command", offset: 0, length: 6 + BOT_USER.username.length }] }))).status).toBe(200);
    await eventually("the group's answer", () => telegram.chat(group).at(-1)?.text.startsWith("echo") || null);
    await quietFor(1500);
    expect(telegram.chat(group).map((m) => m.text)).toEqual([`echo(2): /help@${BOT_USER.username} now`]);
  });

  it("ends a session after BOT_SESSION_IDLE_SECONDS of silence (the thread's alarm)", async () => {
    const chat = nextChat();
    await say(chat, "Before the pause.", 1);
    const thread = await api("GET", `/v1/threads/telegram:${chat}`);
    expect(thread.body.expires_after).toEqual({ anchor: "last_active_at", seconds: 8 });
    await eventually("the thread to expire", async () => (await api("GET", `/v1/threads/telegram:${chat}`)).status === 404 || null, 40_000, 1000);
    expect((await say(chat, "After the pause.", 2))[1]).toBe("echo(2): After the pause.");
  }, 90_000);

  it("splits a 5,000-character reply into messages of at most 4,096 on paragraph boundaries", async () => {
    const chat = nextChat();
    const paragraphs = Array.from({ length: 10 }, (_, i) => `Paragraph ${i} ` + "lorem ipsum dolor sit amet ".repeat(18).trim());
    const long = paragraphs.join("\n\n");
    expect(long.length).toBeGreaterThan(4_900);
    upstream.mock.reply = () => long;
    const res = await deliver(update(chat, "Tell me everything."));
    expect(res.status).toBe(200);
    const texts = await eventually("the split reply", () => {
      const t = telegram.chat(chat).map((m) => m.text);
      return t.join("\n\n") === long ? t : null;
    }, 30_000);
    expect(texts.length).toBe(2);
    for (const t of texts) {
      expect(t.length).toBeLessThanOrEqual(4096);
      expect(paragraphs).toContain(t.split("\n\n").at(-1));
    }
  });

  it("delivers a reply that takes longer than 30 seconds, streamed as drafts in a private chat", async () => {
    const chat = nextChat();
    // Seven pauses (the reply's words, its finish, usage and [DONE] frames) of 5.5 s: about 38 s in all.
    upstream.mock.chunkDelayMs = 5_500;
    upstream.mock.reply = () => "Slow and steady";
    const started = Date.now();
    const res = await deliver(update(chat, "Take your time."));
    expect(res.status).toBe(200);
    const answered = Date.now();
    expect(answered - started).toBeLessThan(3_000);
    // Structurally, nothing of the reply rides on the request's waitUntil (cut 30 s after the
    // response): the webhook awaits every handler it was lent before answering, and the reply
    // is sent by the thread's object. The response came first, before any of the reply.
    const ofChat = () => telegram.calls.filter((c) => c.body?.chat_id == chat);
    expect(ofChat().filter((c) => c.method !== "sendChatAction")).toEqual([]);
    const texts = await eventually("the slow reply", () => (telegram.chat(chat).length ? telegram.chat(chat).map((m) => m.text) : null), 90_000, 500);
    expect(Date.now() - started).toBeGreaterThan(30_000);
    expect(texts).toEqual(["Slow and steady"]);
    const drafts = ofChat().filter((c) => c.method.endsWith("Draft"));
    expect(drafts.length).toBeGreaterThan(1);
    // "typing…" is kept up (Telegram shows it 5 s) while the first token is 5.5 s away: sent again
    // by the thread's object seconds after the webhook answered, not only once at webhook time.
    const typing = ofChat().filter((c) => c.method === "sendChatAction" && c.at < drafts[0]!.at);
    expect(typing.length).toBeGreaterThanOrEqual(2);
    expect(typing.some((c) => c.at > answered + 2_000)).toBe(true);
  }, 120_000);

  it("ignores a group message that neither mentions nor replies to the bot, and answers one that does", async () => {
    const group = -1000 - nextChat();
    const before = upstream.mock.chatRequests().length;
    expect((await deliver(update(group, "hello everyone"))).status).toBe(200);
    await quietFor(2000);
    expect(upstream.mock.chatRequests().length).toBe(before);
    expect(telegram.chat(group)).toHaveLength(0);
    expect((await api("GET", `/v1/threads/telegram:${group}`)).status).toBe(404);

    const mention = `@${BOT_USER.username} what is up?`;
    const res = await deliver(update(group, mention, { entities: [{ type: "mention", offset: 0, length: BOT_USER.username.length + 1 }] }));
    expect(res.status).toBe(200);
    const first = await eventually("the answer to the mention", () => {
      const m = telegram.chat(group)[0];
      return m && m.text.startsWith("echo") ? m : null;
    });
    expect(first.text).toBe(`echo(2): ${mention}`);
    // Not a private chat, so no drafts: a placeholder that is then edited into the reply.
    expect(telegram.chat(group)[0]!.versions[0]).toBe("...");
    expect(telegram.calls.some((c) => c.method === "editMessageText" && c.body.chat_id == group)).toBe(true);

    const reply = update(group, "and a follow-up", {
      reply_to_message: { message_id: first.message_id, from: BOT_USER, chat: { id: group, type: "supergroup", title: "Team" }, date: 0, text: first.text },
    });
    expect((await deliver(reply)).status).toBe(200);
    await eventually("the answer to the reply", () => telegram.chat(group).some((m) => m.text.endsWith("and a follow-up")) || null);
  });

  it("keeps each forum topic its own conversation, answered in its topic", async () => {
    const group = -1000 - nextChat();
    const mention = `@${BOT_USER.username} hi`;
    const entities = [{ type: "mention", offset: 0, length: BOT_USER.username.length + 1 }];
    for (const topic of [77, 78]) {
      const res = await deliver(update(group, mention, { message_thread_id: topic, is_topic_message: true, entities }));
      expect(res.status).toBe(200);
    }
    await eventually("an answer in each topic", () => {
      const answered = telegram.chat(group).filter((m) => m.text.startsWith("echo"));
      return answered.length === 2 || null;
    });
    // Each topic's thread holds only its own exchange: both answers saw one user message.
    expect(telegram.chat(group).map((m) => [m.message_thread_id, m.text]).sort()).toEqual([[77, `echo(2): ${mention}`], [78, `echo(2): ${mention}`]]);
    for (const topic of [77, 78]) {
      const messages = await api("GET", `/v1/threads/telegram:${group}:${topic}/messages`);
      expect(messages.body.data.map((m: any) => m.role)).toEqual(["user", "assistant"]);
    }
  });

  it("apologises when the upstream fails, and the thread shows the failed turn", async () => {
    const chat = nextChat();
    upstream.mock.fail({ kind: "status", status: 500 });
    const texts = await say(chat, "Are you there?", 1);
    expect(texts[0]).toMatch(/^Sorry/);
    const messages = await api("GET", `/v1/threads/telegram:${chat}/messages`);
    expect(messages.body.data.map((m: any) => m.content)).toEqual(["Are you there?"]);
    const turn = await api("GET", `/v1/threads/telegram:${chat}/turns/${messages.body.data[0].turn_id}`);
    expect(turn.body.status).toBe("failed");
    expect(turn.body.error.type).toBe("upstream_error");
  });

  it("retries a message that Telegram answered 429, after its retry_after", async () => {
    const chat = nextChat();
    telegram.rateLimitNext(SENDS, 2);
    const texts = await say(chat, "Rate limit me.", 1);
    expect(texts).toEqual(["echo(2): Rate limit me."]);
    const sends = telegram.calls.filter((c) => SENDS.includes(c.method) && c.body.chat_id == chat);
    expect(sends.length).toBe(2);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(2_000);
  });

  it("is an ordinary thread: listed under /v1/threads for BOT_TENANT, readable, and live over a WebSocket", async () => {
    const chat = nextChat();
    await say(chat, "First.", 1);
    const list = await api("GET", "/v1/threads?limit=100");
    expect(list.body.data.map((t: any) => t.id)).toContain(`telegram:${chat}`);
    const other = await apiClient(worker.url, { authorization: "Bearer sk-other" })("GET", `/v1/threads/telegram:${chat}`);
    expect(other.status).toBe(404);

    const socket = await connectSocket(worker.url, `telegram:${chat}`, "", { headers: { authorization: "Bearer sk-bots" } });
    await socket.waitFor((f) => f.type === "thread.snapshot", "the snapshot");
    await say(chat, "Second.", 2);
    const done = await socket.waitFor((f) => f.type === "turn.completed", "the bot's turn on the socket", 15_000);
    expect(socket.frames.some((f) => f.type === "message.created" && f.message.role === "user" && f.message.content === "Second.")).toBe(true);
    expect(socket.frames.filter((f) => f.type === "message.delta").map((f) => f.delta).join("")).toBe("echo(4): Second.");
    expect(done.turn.thread_id).toBe(`telegram:${chat}`);
    await socket.close();
  });
});
