/** Sending one turn's reply to a chat platform: typing, streaming, splitting, rate limits. */
import type { Adapter } from "chat";

/** Where a reply goes: a Chat SDK adapter, or anything that posts and edits the same way. */
export type ReplyTarget = Pick<Adapter, "postMessage" | "editMessage" | "startTyping"> & Partial<Pick<Adapter, "stream">>;
import { splitReply, telegramLength } from "./split.ts";
import type { Platform } from "./config.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Telegram shows "typing…" for 5 seconds after each sendChatAction; Slack and Discord about as long. */
const TYPING_EVERY_MS = 4_000;
/** A platform asking us to wait longer than this (per attempt) is not waited for. */
const MAX_RETRY_AFTER_S = 60;
const MAX_ATTEMPTS = 5;

/**
 * Per platform: the longest single message and how it counts, and whether the
 * reply is shown live (typing, then streamed) or only when done.
 */
export const PLATFORM_STYLE: Record<Platform, { limit: number; measure: (s: string) => number; live: boolean }> = {
  // Bot API: 4,096 characters after entity parsing; MarkdownV2 escapes count until then.
  telegram: { limit: 4096, measure: telegramLength, live: true },
  // Slack truncates a message's text at 40,000 characters; a markdown block takes 12,000.
  slack: { limit: 12_000, measure: (s) => s.length, live: true },
  // Discord: message content is at most 2,000 characters. A slash command's deferred
  // response shows "<bot> is thinking…" until the first text replaces it; then it is edited.
  discord: { limit: 2_000, measure: (s) => s.length, live: true },
};

export const APOLOGY = "Sorry, I could not answer that just now. Please try again in a moment.";
export const INTERRUPTED_NOTICE = "Sorry, I was restarted while answering your last message and lost my reply. Please send it again.";
export const NEW_SESSION_NOTICE = "Started a new conversation: I have forgotten everything before this.";
export const RATE_LIMITED_NOTICE = "Too many messages right now: I did not take that one. Please try again in a minute.";
export const GREETING = "Hello! Send me a message and I will answer. I remember our conversation; /new starts a fresh one.";
export const NEW_ELSEWHERE_NOTICE = "/new starts a new conversation in a direct message with me. In a channel, each thread is its own conversation and ends after a while of silence.";

/**
 * Calls the platform, and after a 429 waits the retry_after it named (Chat SDK
 * adapters raise that as AdapterRateLimitError with `retryAfter` in seconds)
 * and tries again, a bounded number of times.
 */
export async function withRetryAfter<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const retryAfter = rateLimitedFor(err);
      if (retryAfter === null || retryAfter > MAX_RETRY_AFTER_S || attempt >= MAX_ATTEMPTS) throw err;
      await sleep(retryAfter * 1000);
    }
  }
}

function rateLimitedFor(err: unknown): number | null {
  if (!(err instanceof Error)) return null;
  if (err.name === "AdapterRateLimitError") {
    const s = (err as Error & { retryAfter?: number }).retryAfter;
    return typeof s === "number" && s >= 0 ? s : 1;
  }
  // The Discord adapter raises a 429 as a NetworkError whose originalError keeps the status and
  // Discord's body as its message: {"message":"You are being rate limited.","retry_after":1.5,"global":false}.
  const original = (err as Error & { originalError?: { status?: number; message?: string } }).originalError;
  if (original?.status !== 429) return null;
  const seconds = /"retry_after"\s*:\s*([\d.]+)/.exec(original.message ?? "")?.[1];
  return seconds ? Number(seconds) : 1;
}

/** The deltas of one reply as they arrive, readable once as a stream that stops before a message would overflow. */
export class DeltaQueue {
  private chunks: string[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private resolveStarted!: () => void;
  /** Resolves at the first delta, or when the reply ends without one. */
  readonly started = new Promise<void>((r) => (this.resolveStarted = r));
  /** What the stream has handed to the platform so far. */
  yielded = "";

  /** True once any delta has arrived. */
  get hasText(): boolean {
    return this.chunks.length > 0 || this.yielded !== "";
  }

  push(delta: string): void {
    this.chunks.push(delta);
    this.resolveStarted();
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.resolveStarted();
    this.wake?.();
  }

  /** Deltas until the reply ends or the next one would make the text measure more than limit. */
  async *upTo(limit: number, measure: (s: string) => number): AsyncGenerator<string> {
    for (;;) {
      const next = this.chunks.shift();
      if (next === undefined) {
        if (this.ended) return;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      if (measure(this.yielded + next) > limit) return;
      this.yielded += next;
      yield next;
    }
  }
}

/** Edits of a streamed message come at most this often where the adapter has no streaming of its own (Slack allows ~1 chat.update a second, Discord 5 edits in 5 s). */
const EDIT_EVERY_MS = 1_500;

/**
 * Streams by posting the first text and editing it as more arrives, at most
 * every EDIT_EVERY_MS, with a final edit: for adapters without streaming of
 * their own (Discord) or that decline it (Slack outside assistant threads).
 */
async function postAndEdit(adapter: ReplyTarget, threadId: string, text: AsyncIterable<string>): Promise<{ id: string } | null> {
  let sent: { id: string } | null = null;
  let all = "";
  let shown = "";
  let lastEdit = 0;
  const show = async () => {
    const now = all;
    if (sent) {
      const id = sent.id;
      await withRetryAfter(() => adapter.editMessage(threadId, id, { markdown: now }));
    } else {
      sent = await withRetryAfter(() => adapter.postMessage(threadId, { markdown: now }));
    }
    shown = now;
    lastEdit = Date.now();
  };
  for await (const delta of text) {
    all += delta;
    if (all.trim() && (!sent || Date.now() - lastEdit >= EDIT_EVERY_MS)) await show();
  }
  if (all.trim() && shown !== all) await show();
  return sent;
}

/** Sends "typing…" now and every few seconds until stopped; failures only cost the indicator. */
export function keepTyping(adapter: ReplyTarget, threadId: string): () => void {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      await adapter.startTyping(threadId).catch(() => {});
      await sleep(TYPING_EVERY_MS);
    }
  })();
  return () => {
    stopped = true;
  };
}

/** What a finished turn left to say: its reply text, or that it failed. */
export type TurnEnd = { kind: "reply"; text: string } | { kind: "failed" } | { kind: "interrupted" } | { kind: "dropped" };

/**
 * Delivers one turn: on live platforms, typing until the first delta, then
 * the reply streamed with the adapter's own streaming (Telegram: drafts in
 * private chats, throttled edits elsewhere; Slack: its streaming API in DM
 * threads) or else posted and edited here; then the final text fixed up and
 * split into as many messages as the platform's limit needs. An apology or a
 * notice replaces the reply when the turn failed or was lost.
 */
export async function deliver(adapter: ReplyTarget, platform: Platform, threadId: string, deltas: DeltaQueue, ended: Promise<TurnEnd>): Promise<void> {
  const { limit, measure, live } = PLATFORM_STYLE[platform];
  const stopTyping = live ? keepTyping(adapter, threadId) : () => {};
  let streamed: { id: string } | null = null;
  try {
    await Promise.race([deltas.started, ended]);
    if (live && deltas.hasText) {
      const text = deltas.upTo(limit, measure);
      const native = adapter.stream ? adapter.stream(threadId, text) : Promise.resolve(null);
      // An adapter that declines (null) has not read the text: it is posted and edited here instead.
      streamed = await native.then((s) => s ?? postAndEdit(adapter, threadId, text)).catch(async (err: unknown) => {
        // The final text is still sent below, as plain messages (after the wait a 429 asked for).
        console.warn(`${platform} stream failed`, String(err));
        const wait = rateLimitedFor(err);
        if (wait !== null && wait <= MAX_RETRY_AFTER_S) await sleep(wait * 1000);
        return null;
      });
    }
  } finally {
    stopTyping();
  }
  const end = await ended;
  if (end.kind === "dropped") return;
  if (end.kind !== "reply") {
    await withRetryAfter(() => adapter.postMessage(threadId, end.kind === "failed" ? APOLOGY : INTERRUPTED_NOTICE));
    return;
  }
  const parts = splitReply(end.text, limit, measure);
  let rest = parts;
  if (streamed && parts.length > 0) {
    rest = parts.slice(1);
    const first = parts[0]!;
    if (deltas.yielded.trim() !== first) {
      const id = streamed.id;
      await withRetryAfter(() => adapter.editMessage(threadId, id, { markdown: first }));
    }
  }
  for (const part of rest) await withRetryAfter(() => adapter.postMessage(threadId, { markdown: part }));
}

/** Sends one short text (a notice or a confirmation), honouring the platform's 429s. */
export async function notify(adapter: ReplyTarget, threadId: string, text: string): Promise<void> {
  await withRetryAfter(() => adapter.postMessage(threadId, text));
}
