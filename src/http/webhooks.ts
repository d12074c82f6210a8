/** POST /webhooks/{telegram|slack|discord}: no API key; each platform's own signature or secret, checked by Chat SDK. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { ApiError, NotFoundError } from "../errors.ts";
import { hasSlackSignature, hasTelegramSecret } from "../bots/guard.ts";
import { configured, Platform } from "../bots/config.ts";
import { chatFor } from "../bots/inbound.ts";
import { DurableObjectState } from "../bots/state.ts";

/** Whether a request is for a webhook route (these skip API-key authentication). */
export function isWebhook(req: Request): boolean {
  return new URL(req.url).pathname.startsWith("/webhooks/");
}

/**
 * Verifies and parses the update, and writes each message it carries into
 * its thread before answering: the platform's acknowledgement means the
 * message is stored (its reply runs later, in the thread's object). A
 * platform whose secrets are unset is a 404.
 */
export async function webhookReceive(req: IRequest, env: Env): Promise<Response> {
  const platform = Platform.safeParse(req.params.platform);
  if (!platform.success || !configured(env, platform.data)) {
    throw new NotFoundError(`No bot is configured at ${new URL(req.url).pathname}.`);
  }
  if (platform.data === "telegram" && !(await hasTelegramSecret(req, env.TELEGRAM_WEBHOOK_SECRET_TOKEN!))) {
    throw new ApiError(401, "authentication_error", "Invalid or missing X-Telegram-Bot-Api-Secret-Token.", null, "invalid_webhook_secret");
  }
  if (platform.data === "slack" && !(await hasSlackSignature(req, env.SLACK_SIGNING_SECRET!))) {
    throw new ApiError(401, "authentication_error", "Invalid or missing Slack request signature, or a timestamp more than 5 minutes off.", null, "invalid_webhook_signature");
  }
  const state = new DurableObjectState(env);
  const chat = await chatFor(env, platform.data, state);
  const handlers: Promise<unknown>[] = [];
  const response = await chat.webhooks[platform.data]!(req, {
    waitUntil: (p: Promise<unknown>) => void handlers.push(p),
    // A handler that could not write its message fails the request (below) instead of being only logged.
    propagateHandlerErrors: true,
  });
  // Handlers only write to thread objects, so this stays well within Slack's and Discord's 3 s.
  const written = await Promise.allSettled(handlers);
  const failed = written.find((r) => r.status === "rejected");
  if (failed) {
    // Nothing is acknowledged unwritten: the dedupe marks are lifted and the platform is
    // answered 5xx, so it delivers the update again (Telegram and Slack retry on their own).
    await state.releaseClaims();
    console.error(`${platform.data} webhook: an update could not be stored`, failed.reason);
    throw new ApiError(503, "server_error", "The update could not be stored; deliver it again.", null, "bot_update_not_stored");
  }
  return response;
}
