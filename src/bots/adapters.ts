/** Chat SDK adapters built from configuration: the same for the webhook (Worker) and the reply (thread object). */
import type { Adapter } from "chat";
import type { BotEnv, Platform } from "./config.ts";

/**
 * The adapter of a configured platform (the caller has checked `configured`).
 * Each adapter is imported when first used: they are large (Discord's pulls in
 * discord.js), and a Worker that serves no bot, or another platform, never
 * evaluates them (the Vitest pool's module loader cannot evaluate discord.js at all).
 */
export async function adapterFor(env: BotEnv, platform: Platform): Promise<Adapter> {
  const { ConsoleLogger } = await import("chat");
  const logger = new ConsoleLogger("error");
  switch (platform) {
    case "telegram": {
      const { createTelegramAdapter } = await import("@chat-adapter/telegram");
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
    }
    case "slack": {
      const { createSlackAdapter } = await import("@chat-adapter/slack");
      return createSlackAdapter({
        botToken: env.SLACK_BOT_TOKEN!,
        signingSecret: env.SLACK_SIGNING_SECRET!,
        apiUrl: env.SLACK_API_URL || undefined,
        logger: logger.child("slack"),
      });
    }
    case "discord": {
      const { createDiscordAdapter } = await import("@chat-adapter/discord");
      return createDiscordAdapter({
        botToken: env.DISCORD_BOT_TOKEN!,
        publicKey: env.DISCORD_PUBLIC_KEY!,
        applicationId: env.DISCORD_APPLICATION_ID!,
        apiUrl: env.DISCORD_API_URL || undefined,
        logger: logger.child("discord"),
      });
    }
  }
}
