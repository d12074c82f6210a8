/**
 * Answers to a Discord slash command, sent through its interaction webhook.
 * Chat SDK's Discord adapter (4.41.0) does this only inside the webhook
 * request, and always at https://discord.com/api/v10 whatever DISCORD_API_URL
 * says; the reply is sent later, from the thread's object, so these few calls
 * are made here, against the configured API.
 */
import type { AdapterPostableMessage, RawMessage } from "chat";
import type { BotEnv } from "./config.ts";
import type { ReplyTarget } from "./delivery.ts";

/** An interaction token stays valid for 15 minutes after Discord sends it. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60 * 1000;

/** How long a reply waits for Discord to have the interaction's deferred response: 10 × 500 ms. */
const ORIGINAL_ATTEMPTS = 10;
const ORIGINAL_WAIT_MS = 500;

class DiscordRateLimited extends Error {
  readonly retryAfter: number;
  constructor(retryAfter: number) {
    super(`Rate limited by discord, retry after ${retryAfter}s`);
    // The name withRetryAfter waits on, as Chat SDK's AdapterRateLimitError has.
    this.name = "AdapterRateLimitError";
    this.retryAfter = retryAfter;
  }
}

function textOf(message: AdapterPostableMessage): string {
  if (typeof message === "string") return message;
  if ("markdown" in message) return message.markdown;
  if ("raw" in message) return message.raw;
  throw new Error("only text replies are sent to Discord interactions");
}

/**
 * A reply target for one slash command: the first message replaces the
 * deferred "thinking…" response (PATCH …/messages/@original), later ones are
 * follow-ups (POST …/{token}?wait=true), and edits go to the same webhook.
 */
export function interactionTarget(env: BotEnv, token: string): ReplyTarget {
  const base = `${(env.DISCORD_API_URL || "https://discord.com/api/v10").replace(/\/+$/, "")}/webhooks/${env.DISCORD_APPLICATION_ID}/${token}`;
  let answered = false;
  /** The ID of the message that replaced the deferred response: edited as `@original`. */
  let originalId: string | null = null;
  const send = async (path: string, method: string, threadId: string, message: AdapterPostableMessage): Promise<RawMessage<unknown>> => {
    let res: Response;
    let body: { id?: string; retry_after?: number; code?: number };
    for (let attempt = 1; ; attempt++) {
      res = await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify({ content: textOf(message) }) });
      body = (await res.json().catch(() => ({}))) as typeof body;
      // Until Discord has the webhook's deferred response, the original message does not
      // exist (404, Unknown Webhook 10015): a fast reply waits for it, briefly.
      if (!(res.status === 404 && body.code === 10015 && path === "/messages/@original" && attempt < ORIGINAL_ATTEMPTS)) break;
      await new Promise((r) => setTimeout(r, ORIGINAL_WAIT_MS));
    }
    if (res.status === 429) throw new DiscordRateLimited(body.retry_after ?? Number(res.headers.get("retry-after") ?? 1));
    if (!res.ok || !body.id) throw new Error(`Discord interaction webhook answered ${res.status}: ${JSON.stringify(body)}`);
    return { id: body.id, threadId, raw: body };
  };
  return {
    async postMessage(threadId, message) {
      const first = !answered;
      const sent = await send(first ? "/messages/@original" : "?wait=true", first ? "PATCH" : "POST", threadId, message);
      if (first) originalId = sent.id;
      answered = true;
      return sent;
    },
    editMessage: (threadId, messageId, message) => send(`/messages/${messageId === originalId ? "@original" : messageId}`, "PATCH", threadId, message),
    startTyping: async () => {},
  };
}
