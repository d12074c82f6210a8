/**
 * A mock Discord REST API (`/api/v10/...`): interaction webhooks (`PATCH
 * /webhooks/{app}/{token}/messages/@original`, follow-ups), application
 * commands and the application itself, answering as discord.com does,
 * including a 429 with `retry_after`. Also signs interaction requests as
 * Discord does: Ed25519 over timestamp + body, with a key pair made here.
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";

export interface DiscordCall {
  method: string;
  path: string;
  body: any;
  at: number;
  /** True for a call answered 429. */
  limited?: boolean;
}

export interface InteractionAnswer {
  id: string;
  token: string;
  /** The content the user sees now, after edits. */
  content: string;
  /** True for the message that replaced the deferred "thinking…" response. */
  original: boolean;
}

/** An Ed25519 key pair like a Discord application's: the public key as the hex Discord shows, and a signer. */
export function interactionKeys(): { publicKeyHex: string; headers(body: string, timestamp?: string): Record<string, string> } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // The raw 32-byte key is the tail of its SPKI encoding.
  const publicKeyHex = (publicKey.export({ format: "der", type: "spki" }) as Buffer).subarray(-32).toString("hex");
  return {
    publicKeyHex,
    headers(body, timestamp = String(Math.floor(Date.now() / 1000))) {
      return { "x-signature-ed25519": signWith(privateKey, timestamp + body), "x-signature-timestamp": timestamp };
    },
  };
}

function signWith(key: KeyObject, message: string): string {
  return sign(null, Buffer.from(message), key).toString("hex");
}

let snowflake = BigInt(Date.now()) << 22n;
/** A fresh Discord ID. */
export function discordId(): string {
  return String(++snowflake);
}

export class MockDiscord {
  readonly calls: DiscordCall[] = [];
  readonly answers: InteractionAnswer[] = [];
  private readonly limited: { retryAfter: number }[] = [];
  /** Interaction tokens whose webhook response Discord has received (only then does `@original` exist). */
  private readonly acknowledged = new Set<string>();
  readonly applicationId: string;
  readonly botToken: string;

  constructor(applicationId: string, botToken: string) {
    this.applicationId = applicationId;
    this.botToken = botToken;
  }

  /** The next interaction-webhook call is answered 429 with `retry_after` seconds. */
  rateLimitNext(retryAfter: number): void {
    this.limited.push({ retryAfter });
  }

  /**
   * Discord received the interaction's webhook response (the test client
   * stands in for Discord): from now on its original message exists. A type-4
   * response is that message's content.
   */
  acknowledge(token: string, response: { type?: number; data?: { content?: string } }): void {
    this.acknowledged.add(token);
    if (response.type === 4) this.answers.push({ id: discordId(), token, content: response.data?.content ?? "", original: true });
  }

  /** What the user sees in answer to one interaction, oldest first. */
  answersTo(token: string): string[] {
    return this.answers.filter((a) => a.token === token).map((a) => a.content);
  }

  handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\/v10/, "");
    const text = await req.text();
    const body = text ? JSON.parse(text) : null;
    this.calls.push({ method: req.method, path: path + url.search, body, at: Date.now() });

    const hook = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/.exec(path);
    if (hook) {
      if (hook[1] !== this.applicationId) return json({ message: "Unknown Webhook", code: 10015 }, 404);
      const limit = this.limited.shift();
      if (limit) this.calls.at(-1)!.limited = true;
      if (limit) return json({ message: "You are being rate limited.", retry_after: limit.retryAfter, global: false }, 429, { "retry-after": String(Math.ceil(limit.retryAfter)) });
      return this.interactionMessage(req.method, hook[2]!, hook[3], body);
    }
    if (req.headers.get("authorization") !== `Bot ${this.botToken}`) return json({ message: "401: Unauthorized", code: 0 }, 401);
    if (req.method === "PUT" && path === `/applications/${this.applicationId}/commands`) {
      return json((body as any[]).map((c) => ({ ...c, id: discordId(), application_id: this.applicationId, version: discordId() })));
    }
    if (req.method === "PATCH" && path === "/applications/@me") return json({ id: this.applicationId, name: "Durable", ...body });
    return json({ message: "404: Not Found", code: 0 }, 404);
  };

  private interactionMessage(method: string, token: string, which: string | undefined, body: any): Response {
    // Before Discord has the interaction's response there is no original message to edit.
    if (which === "@original" && !this.acknowledged.has(token)) return json({ message: "Unknown Webhook", code: 10015 }, 404);
    if (method === "PATCH" && which === "@original") {
      let a = this.answers.find((x) => x.token === token && x.original);
      if (!a) this.answers.push((a = { id: discordId(), token, content: "", original: true }));
      a.content = body.content;
      return json(this.wire(a));
    }
    if (method === "PATCH" && which) {
      const a = this.answers.find((x) => x.token === token && x.id === which);
      if (!a) return json({ message: "Unknown Message", code: 10008 }, 404);
      a.content = body.content;
      return json(this.wire(a));
    }
    if (method === "POST" && !which) {
      const a: InteractionAnswer = { id: discordId(), token, content: body.content, original: false };
      this.answers.push(a);
      return json(this.wire(a));
    }
    return json({ message: "405: Method Not Allowed", code: 0 }, 405);
  }

  private wire(a: InteractionAnswer) {
    return { id: a.id, type: a.original ? 20 : 0, content: a.content, channel_id: "0", author: { id: this.applicationId, username: "Durable", bot: true },
      timestamp: new Date().toISOString(), flags: 0 };
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
