/** The webhook side: Chat SDK verifies and parses the platform's request, and each message goes to its thread's object. */
import { Chat, ConsoleLogger, type Message, type SlashCommandEvent, type Thread } from "chat";
import type { Env } from "../env.ts";
import { threadStub } from "../http/context.ts";
import { unwrap } from "../errors.ts";
import { adapterFor } from "./adapters.ts";
import { sessionSettings, type Platform } from "./config.ts";
import type { BotCommand } from "./session.ts";
import type { DurableObjectState } from "./state.ts";

/** The Discord interaction behind a slash command event (id and token), if it is one. */
function interactionOf(event: SlashCommandEvent): { id: string; token: string } | null {
  const raw = event.raw as { id?: unknown; token?: unknown } | null;
  return event.adapter.name === "discord" && typeof raw?.id === "string" && typeof raw.token === "string" ? { id: raw.id, token: raw.token } : null;
}

/** Chat SDK's ID of a Telegram message (`{chat_id}:{message_id}`), as receive() keys it. */
function telegramMessageId(raw: unknown): string | undefined {
  const m = raw as { message_id?: unknown; chat?: { id?: unknown } } | null;
  return typeof m?.message_id === "number" && m.chat?.id !== undefined ? `${String(m.chat.id)}:${m.message_id}` : undefined;
}

/** Chat SDK's dedupe keys outlive every platform's redelivery window (Telegram retries for hours, Slack for minutes). */
const DEDUPE_TTL_MS = 24 * 3600 * 1000;

/**
 * A Chat for one webhook request (it holds no user data between requests),
 * with the platform's adapter, Durable Object state, and the handlers that
 * hand each message to its thread's object.
 */
export async function chatFor(env: Env, platform: Platform, state: DurableObjectState): Promise<Chat> {
  const chat = new Chat({
    // Each adapter learns the bot's own name (getMe, auth.test, the application) or is given it.
    userName: "bot",
    adapters: { [platform]: await adapterFor(env, platform) },
    state,
    // The thread's object queues and orders turns itself: Chat SDK's per-thread lock
    // ("drop" by default) would throw away a message that arrives during another.
    concurrency: "concurrent",
    dedupeTtlMs: DEDUPE_TTL_MS,
    logger: new ConsoleLogger("warn"),
  });
  const forward = async (thread: Thread, message: Message) => {
    const text = message.text.trim();
    if (!text) return;
    const stub = threadStub(env, sessionSettings(env).tenant, thread.id);
    unwrap(await stub.botMessage({ platform, threadId: thread.id, messageId: message.id, text, author: message.author.userName ?? "" }));
  };
  // Private chats: every message. Groups and channels: only messages that
  // mention the bot or (Telegram) reply to it; Chat SDK decides which is which.
  chat.onDirectMessage(forward);
  chat.onNewMention(async (thread, message) => {
    await forward(thread, message);
    // A Slack thread the bot was mentioned in is its conversation: later replies in it
    // are answered without a mention. (A Telegram group is one thread: not subscribed.)
    if (platform === "slack") await thread.subscribe();
  });
  chat.onSubscribedMessage(forward);
  // Every command comes here (Chat SDK runs a handler without names for all of them).
  chat.onSlashCommand(async (event) => {
    const command = event.command.toLowerCase();
    if (command === "/ask") return ask(event);
    if (command === "/new" || (command === "/start" && platform === "telegram")) return runCommand(event, command);
    if (platform === "telegram") return commandAsMessage(event);
  });
  const runCommand = async (event: SlashCommandEvent, command: "/new" | "/start") => {
    const raw = event.raw as Record<string, unknown> | null;
    let threadId = event.channel.id;
    let kind: BotCommand["command"] = command === "/start" ? "start" : "new";
    if (platform === "slack") {
      // Slack gives the channel: a DM is the one conversation `slack:{D…}:`; a channel's
      // conversations are its threads, which a command cannot name.
      threadId = `${event.channel.id}:`;
      if (!/^slack:D/.test(threadId)) kind = "new-elsewhere";
    }
    const commandId = platform === "telegram" ? telegramMessageId(raw) : platform === "discord" ? interactionOf(event)?.id : undefined;
    const stub = threadStub(env, sessionSettings(env).tenant, threadId);
    unwrap(await stub.botCommand({ platform, threadId, command: kind, commandId, userId: event.user.userId, interactionToken: interactionOf(event)?.token }));
  };
  // Discord's HTTP interactions carry no plain messages (those need a Gateway connection,
  // which a Worker does not keep): there, one talks to the bot with /ask.
  const ask = async (event: SlashCommandEvent) => {
    const interaction = interactionOf(event);
    const text = event.text.trim();
    if (platform !== "discord" || !interaction || !text) return;
    const stub = threadStub(env, sessionSettings(env).tenant, event.channel.id);
    // The interaction ID is the message ID: Discord never sends two interactions with one ID.
    unwrap(await stub.botMessage({ platform, threadId: event.channel.id, messageId: `interaction:${interaction.id}`, text,
      author: event.user.userName ?? "", interactionToken: interaction.token }));
  };
  // A Telegram command the bot does not know (`/help`, `/settings`, a typo) is an ordinary
  // message: in a private chat, or in a group when addressed to the bot (`/cmd@bot`).
  const commandAsMessage = async (event: SlashCommandEvent) => {
    const raw = event.raw as { text?: string; chat?: { type?: string } } | null;
    const text = raw?.text?.trim();
    const id = telegramMessageId(raw);
    if (!text || !id) return;
    const addressed = raw?.chat?.type === "private" || text.split(/\s/, 1)[0]!.includes("@");
    if (!addressed) return;
    const stub = threadStub(env, sessionSettings(env).tenant, event.channel.id);
    unwrap(await stub.botMessage({ platform, threadId: event.channel.id, messageId: id, text, author: event.user.userName ?? "" }));
  };
  return chat;
}
