/** Bot settings read from the environment: which platforms are configured, and how their threads are shaped. */
import { z } from "zod";
import type { BotStateObject } from "./BotStateObject.ts";

/** The bindings and variables the bots read; every variable is documented in the README's Bots section. */
export interface BotEnv {
  BOT_STATE: DurableObjectNamespace<BotStateObject>;
  TELEGRAM_BOT_TOKEN?: string;
  TELEGRAM_WEBHOOK_SECRET_TOKEN?: string;
  TELEGRAM_BOT_USERNAME?: string;
  TELEGRAM_API_BASE_URL?: string;
  SLACK_BOT_TOKEN?: string;
  SLACK_SIGNING_SECRET?: string;
  SLACK_API_URL?: string;
  DISCORD_BOT_TOKEN?: string;
  DISCORD_PUBLIC_KEY?: string;
  DISCORD_APPLICATION_ID?: string;
  DISCORD_API_URL?: string;
  BOT_TENANT?: string;
  BOT_MODEL?: string;
  BOT_INSTRUCTIONS?: string;
  BOT_SESSION_IDLE_SECONDS?: string;
}

export const Platform = z.enum(["telegram", "slack", "discord"]);
export type Platform = z.infer<typeof Platform>;

/** The platforms whose secrets are all set: only these answer on /webhooks/{platform}. */
export function configured(env: BotEnv, platform: Platform): boolean {
  switch (platform) {
    case "telegram":
      return Boolean(env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_WEBHOOK_SECRET_TOKEN);
    case "slack":
      return Boolean(env.SLACK_BOT_TOKEN && env.SLACK_SIGNING_SECRET);
    case "discord":
      return Boolean(env.DISCORD_BOT_TOKEN && env.DISCORD_PUBLIC_KEY && env.DISCORD_APPLICATION_ID);
  }
}

const IdleSeconds = z.coerce.number().int().min(1).max(365 * 86400);

/** How bot threads are created: owner tenant, model, instructions and idle expiry. */
export function sessionSettings(env: BotEnv): { tenant: string; model?: string; instructions?: string; idleSeconds: number } {
  return {
    tenant: env.BOT_TENANT || "local",
    model: env.BOT_MODEL || undefined,
    instructions: env.BOT_INSTRUCTIONS || undefined,
    idleSeconds: env.BOT_SESSION_IDLE_SECONDS ? IdleSeconds.parse(env.BOT_SESSION_IDLE_SECONDS) : 86400,
  };
}
