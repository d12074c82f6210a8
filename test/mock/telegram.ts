/**
 * A mock Telegram Bot API server: `POST /bot<token>/<method>` with a JSON body,
 * answered in the Bot API's `{ok, result}` / `{ok:false, error_code,
 * description, parameters}` envelopes, as api.telegram.org does, including
 * the rich-message methods (`sendRichMessage`, `rich_message` edits) that
 * Chat SDK's adapter tries first. It keeps the
 * chat as a user would see it (each message's latest text after edits), and
 * can answer a method with a 429 carrying `parameters.retry_after`.
 */

export interface BotCall {
  method: string;
  body: any;
  /** Date.now() when the call arrived. */
  at: number;
}

export interface ChatMessage {
  message_id: number;
  chat_id: number;
  /** The forum topic it was sent to, if any. */
  message_thread_id?: number;
  /** The text as the user sees it now (MarkdownV2 escapes removed), after any edits. */
  text: string;
  /** Every text it has had, oldest first. */
  versions: string[];
}

export const BOT_USER = { id: 7000001, is_bot: true, first_name: "Durable", username: "durable_test_bot" };

/** What MarkdownV2 shows: the text without its backslash escapes. */
export function unescapeMarkdownV2(s: string): string {
  return s.replace(/\\([_*[\]()~`>#+\-=|{}.!\\])/g, "$1");
}

let updateId = 5000 + (Date.now() % 100_000) * 10;
let messageId = 1;

/** A Bot API Update carrying one text message from user 42, as Telegram sends it (a command gets its bot_command entity). */
export function textUpdate(chatId: number, text: string, extra: Record<string, unknown> = {}) {
  const isPrivate = chatId > 0;
  const command = /^\/\w+/.exec(text);
  return {
    update_id: updateId++,
    message: {
      message_id: messageId++,
      from: { id: 42, is_bot: false, first_name: "Ada", username: "ada" },
      chat: isPrivate ? { id: chatId, type: "private", first_name: "Ada", username: "ada" } : { id: chatId, type: "supergroup", title: "Team" },
      date: Math.floor(Date.now() / 1000),
      text,
      ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] } : {}),
      ...extra,
    },
  };
}

export class MockTelegram {
  readonly calls: BotCall[] = [];
  readonly messages: ChatMessage[] = [];
  private readonly limited: { methods: string[]; retryAfter: number }[] = [];
  private nextId = 1000;
  readonly token: string;

  constructor(token: string) {
    this.token = token;
  }

  /** The next call of any of `methods` is answered 429 with `retry_after` seconds. */
  rateLimitNext(methods: string[], retryAfter: number): void {
    this.limited.push({ methods, retryAfter });
  }

  /** Calls of a method, in arrival order. */
  callsOf(method: string): BotCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The bot's messages in a chat, in the order they were sent. */
  chat(chatId: number): ChatMessage[] {
    return this.messages.filter((m) => m.chat_id === chatId);
  }

  handle = async (req: Request): Promise<Response> => {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url).pathname);
    if (!match) return reply({ ok: false, error_code: 404, description: "Not Found" }, 404);
    if (match[1] !== this.token) return reply({ ok: false, error_code: 401, description: "Unauthorized" }, 401);
    const method = match[2]!;
    const text = await req.text();
    const body = text ? JSON.parse(text) : {};
    this.calls.push({ method, body, at: Date.now() });
    const limit = this.limited.findIndex((l) => l.methods.includes(method));
    if (limit !== -1) {
      const wait = this.limited.splice(limit, 1)[0]!.retryAfter;
      return reply({ ok: false, error_code: 429, description: `Too Many Requests: retry after ${wait}`, parameters: { retry_after: wait } }, 429);
    }
    switch (method) {
      case "getMe":
        return ok(BOT_USER);
      case "setWebhook":
      case "sendChatAction":
      case "sendMessageDraft":
      case "sendRichMessageDraft":
        return ok(true);
      case "sendMessage":
      case "sendRichMessage":
        return ok(this.send(body));
      case "editMessageText":
        return ok(this.edit(body));
      default:
        // What the Bot API answers for a method it does not have.
        return reply({ ok: false, error_code: 404, description: "Not Found: method not found" }, 404);
    }
  };

  private send(body: any) {
    const text = shown(body);
    if (text.length > 4096) return null;
    const m: ChatMessage = { message_id: this.nextId++, chat_id: Number(body.chat_id), text, versions: [text] };
    if (body.message_thread_id !== undefined) m.message_thread_id = Number(body.message_thread_id);
    this.messages.push(m);
    return this.wire(m);
  }

  private edit(body: any) {
    const m = this.messages.find((x) => x.message_id === Number(body.message_id) && x.chat_id === Number(body.chat_id));
    if (!m) return null;
    m.text = shown(body);
    m.versions.push(m.text);
    return this.wire(m);
  }

  private wire(m: ChatMessage) {
    return {
      message_id: m.message_id, from: BOT_USER, date: Math.floor(Date.now() / 1000), text: m.text,
      ...(m.message_thread_id !== undefined ? { message_thread_id: m.message_thread_id, is_topic_message: true } : {}),
      chat: m.chat_id > 0 ? { id: m.chat_id, type: "private", first_name: "Ada" } : { id: m.chat_id, type: "supergroup", title: "Group" },
    };
  }
}

function shown(body: any): string {
  // A rich message is sent as Markdown; plain prose shows as it is written.
  if (body.rich_message) return String(body.rich_message.markdown ?? "");
  const text = String(body.text ?? "");
  return body.parse_mode === "MarkdownV2" ? unescapeMarkdownV2(text) : text;
}

function ok(result: unknown): Response {
  if (result === null) return reply({ ok: false, error_code: 400, description: "Bad Request: message is too long or not found" }, 400);
  return reply({ ok: true, result });
}

function reply(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
