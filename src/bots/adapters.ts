/** Chat SDK adapters built from configuration: the same for the webhook (Worker) and the reply (thread object). */
import { createDiscordAdapter } from "@chat-adapter/discord";
import { createSlackAdapter } from "@chat-adapter/slack";
import { createTelegramAdapter } from "@chat-adapter/telegram";
import { ConsoleLogger, type Adapter } from "chat";
import type { BotEnv, Platform } from "./config.ts";

const logger = new ConsoleLogger("error");

/** The adapter of a configured platform (the caller has checked `configured`). */
export function adapterFor(env: BotEnv, platform: Platform): Adapter {
  switch (platform) {
    case "telegram":
      return createTelegramAdapter({
        botToken: env.TELEGRAM_BOT_TOKEN!,
        secretToken: env.TELEGRAM_WEBHOOK_SECRET_TOKEN!,
        userName: env.TELEGRAM_BOT_USERNAME || undefined,
        apiBaseUrl: env.TELEGRAM_API_BASE_URL || undefined,
        // Webhook only: "auto" would ask getWebhookInfo on every start, and polling cannot run in a Worker.
        mode: "webhook",
        // A reply to one of the bot's messages counts as mentioning it in a group.
        mentionOnReply: true,
        // Private chats stream with sendMessageDraft; groups fall back to throttled edits.
        nativeStreaming: true,
        logger: logger.child("telegram"),
      });
    case "slack":
      return createSlackAdapter({
        botToken: env.SLACK_BOT_TOKEN!,
        signingSecret: env.SLACK_SIGNING_SECRET!,
        apiUrl: env.SLACK_API_URL || undefined,
        logger: logger.child("slack"),
      });
    case "discord":
      return createDiscordAdapter({
        botToken: env.DISCORD_BOT_TOKEN!,
        publicKey: env.DISCORD_PUBLIC_KEY!,
        applicationId: env.DISCORD_APPLICATION_ID!,
        apiUrl: env.DISCORD_API_URL || undefined,
        logger: logger.child("discord"),
      });
  }
}
