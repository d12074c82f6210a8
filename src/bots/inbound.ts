/** The webhook side: Chat SDK verifies and parses the platform's request, and each message goes to its thread's object. */
import { Chat, ConsoleLogger, type Message, type SlashCommandEvent, type Thread } from "chat";
import type { Env } from "../env.ts";
import { threadStub } from "../http/context.ts";
import { unwrap } from "../errors.ts";
import { adapterFor } from "./adapters.ts";
import { sessionSettings, type Platform } from "./config.ts";
import type { DurableObjectState } from "./state.ts";

/** The Discord interaction behind a slash command event (id and token), if it is one. */
function interactionOf(event: SlashCommandEvent): { id: string; token: string } | null {
  const raw = event.raw as { id?: unknown; token?: unknown } | null;
  return event.adapter.name === "discord" && typeof raw?.id === "string" && typeof raw.token === "string" ? { id: raw.id, token: raw.token } : null;
}

/**
 * The session a slash command ends. Telegram gives the chat's thread; Slack
 * gives the channel, whose top-level DM conversation is the thread
 * `slack:{channel}:` (a channel's conversations are its threads, each its own
 * session, which a command cannot name).
 */
function sessionOfCommand(platform: Platform, channelId: string): string {
  return platform === "slack" ? `${channelId}:` : channelId;
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
  chat.onSlashCommand("/new", async (event) => {
    const threadId = sessionOfCommand(platform, event.channel.id);
    const stub = threadStub(env, sessionSettings(env).tenant, threadId);
    unwrap(await stub.botReset(platform, threadId, interactionOf(event)?.token));
  });
  // Discord's HTTP interactions carry no plain messages (those need a Gateway connection,
  // which a Worker does not keep): there, one talks to the bot with /ask.
  chat.onSlashCommand("/ask", async (event) => {
    const interaction = interactionOf(event);
    const text = event.text.trim();
    if (platform !== "discord" || !interaction || !text) return;
    const stub = threadStub(env, sessionSettings(env).tenant, event.channel.id);
    // The interaction ID is the message ID: Discord never sends two interactions with one ID.
    unwrap(await stub.botMessage({ platform, threadId: event.channel.id, messageId: `interaction:${interaction.id}`, text,
      author: event.user.userName ?? "", interactionToken: interaction.token }));
  });
  return chat;
}
