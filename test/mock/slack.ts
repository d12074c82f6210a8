/**
 * A mock Slack Web API (`POST /api/<method>`, form-encoded or JSON bodies, a
 * bot token in Authorization) answering `{ok:true, …}` / `{ok:false, error}`
 * as slack.com does, with 429 + Retry-After when asked; and the signing of
 * Events API and slash-command requests exactly as Slack signs them (v0 HMAC).
 */
import { createHmac } from "node:crypto";

export interface SlackCall {
  method: string;
  body: Record<string, any>;
  at: number;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  thread_ts: string | undefined;
  /** What the user sees now, after edits. */
  text: string;
}

export const SLACK_BOT = { user_id: "UBOT0001", bot_id: "BBOT0001", user: "durable", team_id: "T0TEAM01" };

/** The headers Slack sends with a request body: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret. */
export function slackSignature(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex");
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": `v0=${sig}` };
}

let seq = 0;
/** A Slack message timestamp (also its ID), unique and increasing. */
export function slackTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, "0")}`;
}

export class MockSlack {
  readonly calls: SlackCall[] = [];
  /** Ephemeral messages (chat.postEphemeral): shown to one user only. */
  readonly ephemerals: { channel: string; user: string; text: string }[] = [];
  readonly messages: SlackMessage[] = [];
  private readonly limited: { method: string; retryAfter: number }[] = [];
  readonly token: string;

  constructor(token: string) {
    this.token = token;
  }

  /** The next call of `method` is answered HTTP 429 with `Retry-After: retryAfter`. */
  rateLimitNext(method: string, retryAfter: number): void {
    this.limited.push({ method, retryAfter });
  }

  /** The bot's messages in a channel (optionally one thread), oldest first. */
  channel(channel: string, threadTs?: string): SlackMessage[] {
    return this.messages.filter((m) => m.channel === channel && (threadTs === undefined || m.thread_ts === threadTs));
  }

  handle = async (req: Request): Promise<Response> => {
    const method = new URL(req.url).pathname.replace(/^\/api\//, "");
    if (req.headers.get("authorization") !== `Bearer ${this.token}`) return json({ ok: false, error: "invalid_auth" });
    const raw = await req.text();
    const body: Record<string, any> = (req.headers.get("content-type") ?? "").includes("json")
      ? JSON.parse(raw || "{}")
      : Object.fromEntries(new URLSearchParams(raw));
    this.calls.push({ method, body, at: Date.now() });
    const limit = this.limited.findIndex((l) => l.method === method);
    if (limit !== -1) {
      const wait = this.limited.splice(limit, 1)[0]!.retryAfter;
      return json({ ok: false, error: "ratelimited" }, 429, { "retry-after": String(wait) });
    }
    switch (method) {
      case "auth.test":
        return json({ ok: true, url: "https://test.slack.com/", team: "Test", ...SLACK_BOT });
      case "chat.postMessage": {
        const m: SlackMessage = { channel: body.channel, ts: slackTs(), thread_ts: body.thread_ts || undefined, text: shown(body) };
        this.messages.push(m);
        return json({ ok: true, channel: m.channel, ts: m.ts, message: { type: "message", text: m.text, user: SLACK_BOT.user_id, bot_id: SLACK_BOT.bot_id, ts: m.ts, thread_ts: m.thread_ts } });
      }
      case "chat.update": {
        const m = this.messages.find((x) => x.channel === body.channel && x.ts === body.ts);
        if (!m) return json({ ok: false, error: "message_not_found" });
        m.text = shown(body);
        return json({ ok: true, channel: m.channel, ts: m.ts, text: m.text });
      }
      case "chat.postEphemeral": {
        // Seen only by `user`, never kept in the channel's history.
        this.ephemerals.push({ channel: body.channel, user: body.user, text: shown(body) });
        return json({ ok: true, message_ts: slackTs() });
      }
      case "assistant.threads.setStatus":
        return json({ ok: true });
      default:
        return json({ ok: false, error: "unknown_method" });
    }
  };
}

function shown(body: Record<string, any>): string {
  return String(body.markdown_text ?? body.text ?? "");
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
