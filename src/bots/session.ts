/**
 * The bot side of a ThreadObject: a platform message becomes a turn of this
 * thread, and the reply goes back to the platform from here, not from the
 * webhook request (whose waitUntil Cloudflare cuts 30 s after the response).
 */
import { z } from "zod";
import type { Env } from "../env.ts";
import type { ThreadCreate, TurnCreate } from "../protocol/schemas.ts";
import type { EventLog } from "../thread/events.ts";
import { isTurnEnd, turnOfEvent } from "../thread/events.ts";
import { recall, type IdempotencyKey } from "../thread/idempotency.ts";
import { turnShape } from "../thread/shapes.ts";
import type { ThreadRow, ThreadStore } from "../thread/store.ts";
import type { TurnRunner } from "../thread/turns.ts";
import type { ThreadParts } from "../thread/parts.ts";
import type { TurnCalls } from "../thread/turnCalls.ts";
import { adapterFor } from "./adapters.ts";
import { Platform, sessionSettings } from "./config.ts";
import { deliver, DeltaQueue, GREETING, NEW_ELSEWHERE_NOTICE, NEW_SESSION_NOTICE, RATE_LIMITED_NOTICE, notify, withRetryAfter, type ReplyTarget, type TurnEnd } from "./delivery.ts";
import { interactionTarget, INTERACTION_TOKEN_TTL_MS } from "./discordInteraction.ts";
import { ApiError, RateLimitError } from "../errors.ts";

/** A platform message on its way into a thread, as the webhook parsed it. */
export const InboundMessage = z.object({
  platform: Platform,
  threadId: z.string(),
  /** Chat SDK's message ID: the same for every redelivery of one platform message. */
  messageId: z.string().min(1),
  text: z.string().min(1),
  author: z.string(),
  /** A Discord slash command's interaction token: the reply answers that interaction. */
  interactionToken: z.string().optional(),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

/**
 * A slash command, as the webhook parsed it: `new` ends this session, `start`
 * (Telegram's first message to a bot) greets, and `new-elsewhere` is `/new`
 * in a Slack channel, whose conversations are threads a command cannot name.
 */
export const BotCommand = z.object({
  platform: Platform,
  threadId: z.string(),
  command: z.enum(["new", "start", "new-elsewhere"]),
  /** The command's platform message or interaction ID, the same for every redelivery; none where the platform never redelivers. */
  commandId: z.string().min(1).optional(),
  /** The user who sent it (Slack: an ephemeral answer is shown to them only). */
  userId: z.string(),
  interactionToken: z.string().optional(),
});
export type BotCommand = z.infer<typeof BotCommand>;

/** What the thread object lends the bot session. */
export interface BotHost {
  env: Env;
  storage: DurableObjectStorage;
  store: ThreadStore;
  events: EventLog;
  turns: TurnRunner;
  thread(): ThreadRow | null;
  /** Creates this object's thread (it has none). */
  createThread(tenant: string, id: string, body: ThreadCreate): Promise<void>;
  /** Takes one turn from the tenant's turn rate limit (TURN_LIMIT), or throws RateLimitError. */
  admit(tenant: string): Promise<void>;
  /** Starts a turn recorded under the idempotency key; answers its seq. */
  startTurn(body: TurnCreate, idem: IdempotencyKey): { turn: number };
  /** Deletes the thread and its storage (as DELETE /v1/threads/{id}). */
  wipe(): Promise<unknown>;
  waitUntil(p: Promise<unknown>): void;
}

interface Pending {
  platform: Platform;
  threadId: string;
  turn: number;
  interactionToken?: string;
  /** Date.now() when the message came in (a Discord interaction token is good for 15 minutes from then). */
  receivedAt: number;
}

/** While a reply is being delivered, the object's alarm comes at least this often, so a restart is noticed. */
const HEARTBEAT_MS = 15_000;
const PENDING = "bot:delivery:";
/** A `/new` already carried out, by command ID: kept as long as platforms redeliver (a day). */
const RESET = "bot:reset:";
const RESET_MARK_TTL_MS = 24 * 3600 * 1000;

/** The bot session of a thread object, built from the parts it already has. */
export function botSessionFor(p: ThreadParts, turnCalls: TurnCalls): BotSession {
  const session = new BotSession({
    env: p.env, storage: p.ctx.storage, store: p.store, events: p.events, turns: p.turns,
    thread: () => p.life.thread(),
    createThread: async (tenant, id, body) => {
      p.life.insertThread(tenant, id, body, undefined, false);
      await p.retention.afterActivity(true);
    },
    admit: (tenant) => p.admit(tenant),
    startTurn: (body, idem) => turnCalls.start(body, idem),
    wipe: () => p.life.wipe(),
    waitUntil: (promise) => p.ctx.waitUntil(promise),
  });
  // A turn's end moves the alarm (retention); while its reply is still being delivered the
  // heartbeat stays, and an expired thread is not deleted under the reply.
  p.retention.heldUntil = () => session.owed() ? Date.now() + HEARTBEAT_MS : null;
  return session;
}

export class BotSession {
  /** Deliveries run one after another, so a chat gets its replies in the order of its messages. */
  private deliveries: Promise<void> = Promise.resolve();
  /** Turns whose delivery this instance is running. */
  private readonly active = new Set<number>();

  constructor(private readonly host: BotHost) {}

  /** True while this instance is delivering a reply or a restart's owed reply (resume() picks those up). */
  owed(): boolean {
    return this.active.size > 0;
  }

  /**
   * Takes a platform message: the first time its ID is seen, writes it as a
   * turn (before the webhook is answered) and schedules the reply; a
   * redelivery is answered false and changes nothing.
   */
  async receive(msg: InboundMessage): Promise<{ accepted: boolean }> {
    const { host } = this;
    const idem: IdempotencyKey = { key: `bot:${msg.messageId}`, hash: "bot-message" };
    const seen = () => host.thread() !== null && recall(host.store, idem) !== null;
    if (seen()) return { accepted: false };
    // Replies a restart left owed go out before this message's.
    await this.resume();
    const s = sessionSettings(host.env);
    const pending: Pending = { platform: msg.platform, threadId: msg.threadId, turn: 0, interactionToken: msg.interactionToken, receivedAt: Date.now() };
    try {
      // A bot turn counts against its tenant's limit like any other; before anything is written.
      await host.admit(s.tenant);
    } catch (err) {
      if (!(err instanceof RateLimitError)) throw err;
      // Answered 200, not 429/503: a platform would only redeliver it into the same limit.
      this.say(pending, msg.threadId, RATE_LIMITED_NOTICE);
      return { accepted: false };
    }
    if (!host.thread()) {
      await host.createThread(s.tenant, msg.threadId, {
        model: s.model, instructions: s.instructions, metadata: { platform: msg.platform },
        expires_after: { anchor: "last_active_at", seconds: s.idleSeconds },
      });
    }
    // Looked up again after the awaits above, and the turn starts synchronously after it:
    // two deliveries of one message arriving together still make one turn.
    if (seen()) return { accepted: false };
    let turn: number;
    try {
      turn = host.startTurn({ input: [{ role: "user", content: msg.text, metadata: { author: msg.author.slice(0, 512) } }] }, idem).turn;
    } catch (err) {
      // Refused input (too long for the model, over a size limit): the chat is told why, nothing is written.
      if (!(err instanceof ApiError)) throw err;
      this.say(pending, msg.threadId, `Sorry, I could not take that message: ${err.message}`);
      return { accepted: false };
    }
    pending.turn = turn;
    // Subscribed in the same tick as the turn was queued: no delta can be missed.
    const deltas = this.follow(turn);
    await host.storage.put(`${PENDING}${turn}`, pending);
    await this.heartbeat();
    this.schedule(pending, (adapter) => deliver(adapter, pending.platform, pending.threadId, deltas, this.ended(turn)));
    return { accepted: true };
  }

  /**
   * A slash command. Its answer goes out after the webhook has answered, on
   * the delivery chain like a reply: a platform call (with its 429 waits) never
   * holds up Slack's or Discord's 3 seconds, and a Discord interaction is
   * answered before its original message is edited.
   */
  async command(cmd: BotCommand): Promise<void> {
    const p = { platform: cmd.platform, interactionToken: cmd.interactionToken, receivedAt: Date.now() };
    if (cmd.command === "start") return this.say(p, cmd.threadId, GREETING);
    if (cmd.command === "new-elsewhere") {
      // Slack shows an ephemeral message to the command's user only.
      return this.queue(cmd.threadId, async () => {
        const slack = await adapterFor(this.host.env, "slack");
        await withRetryAfter(() => slack.postEphemeral!(cmd.threadId, cmd.userId, NEW_ELSEWHERE_NOTICE));
      });
    }
    // `/new`: the thread is deleted (its ID starts empty next time). A redelivered `/new`
    // (Chat SDK does not dedupe slash commands) finds its mark and changes nothing.
    const mark = cmd.commandId ? `${RESET}${cmd.commandId}` : null;
    if (mark && (await this.host.storage.get(mark)) !== undefined) return;
    if (this.host.thread()) await this.host.wipe();
    if (mark) {
      // The wipe emptied storage: the mark outlives it, and the alarm drops it after a day.
      await this.host.storage.put(mark, Date.now());
      if ((await this.host.storage.getAlarm()) === null) await this.host.storage.setAlarm(Date.now() + RESET_MARK_TTL_MS);
    }
    this.say(p, cmd.threadId, NEW_SESSION_NOTICE);
  }

  /** Queues a short text to the chat behind the replies already owed. */
  private say(p: Pick<Pending, "platform" | "interactionToken" | "receivedAt">, threadId: string, text: string): void {
    this.queue(threadId, async () => notify(await this.target(p), threadId, text));
  }

  private queue(threadId: string, send: () => Promise<void>): void {
    this.deliveries = this.deliveries.then(send).catch((e: unknown) => console.error(`bot notice to ${threadId} failed`, e));
    this.host.waitUntil(this.deliveries);
  }

  /**
   * Called by the object's alarm: a delivery recorded but not running in this
   * instance was cut by a restart, so the chat gets the stored answer, or a
   * short notice if the turn itself was lost.
   */
  async resume(): Promise<void> {
    const marks = await this.host.storage.list<number>({ prefix: RESET });
    const old = [...marks].filter(([, at]) => Date.now() - at >= RESET_MARK_TTL_MS).map(([k]) => k);
    if (old.length) await this.host.storage.delete(old);
    if (marks.size > old.length && !this.host.thread() && (await this.host.storage.getAlarm()) === null) {
      await this.host.storage.setAlarm(Math.min(...[...marks.values()].filter((at) => Date.now() - at < RESET_MARK_TTL_MS)) + RESET_MARK_TTL_MS);
    }
    const pending = await this.host.storage.list<Pending>({ prefix: PENDING });
    let running = false;
    for (const p of pending.values()) {
      if (this.active.has(p.turn)) {
        running = true;
        continue;
      }
      const end = Promise.resolve(this.endOf(p.turn));
      const none = new DeltaQueue();
      none.end();
      this.schedule(p, (adapter) => deliver(adapter, p.platform, p.threadId, none, end));
    }
    if (running) await this.heartbeat();
  }

  /**
   * Where replies go: the Discord interaction being answered while its token
   * is good, otherwise the platform's Chat SDK adapter (for Discord, a plain
   * message in the channel).
   */
  private async target(p: Pick<Pending, "platform" | "interactionToken" | "receivedAt">): Promise<ReplyTarget> {
    const fresh = p.interactionToken && Date.now() - p.receivedAt < INTERACTION_TOKEN_TTL_MS - 60_000;
    return fresh ? interactionTarget(this.host.env, p.interactionToken!) : await adapterFor(this.host.env, p.platform);
  }

  private schedule(p: Pending, run: (target: ReplyTarget) => Promise<void>): void {
    this.active.add(p.turn);
    this.deliveries = this.deliveries
      .then(async () => run(await this.target(p)))
      .catch((err: unknown) => console.error(`bot reply to ${p.threadId} failed`, err))
      .finally(async () => {
        this.active.delete(p.turn);
        await this.host.storage.delete(`${PENDING}${p.turn}`);
      });
    this.host.waitUntil(this.deliveries);
  }

  /** The reply's deltas, live, until its turn ends or the thread is deleted. */
  private follow(turn: number): DeltaQueue {
    const t = this.host.thread()!;
    const turnId = turnShape(t, this.host.store.turn(turn)!).id;
    const q = new DeltaQueue();
    const stop = this.host.events.subscribe((e) => {
      if (e.type === "message.delta" && e.turn_id === turnId) q.push(e.delta);
      else if (e.type === "thread.deleted" || (isTurnEnd(e) && turnOfEvent(e) === turnId)) {
        q.end();
        stop();
      }
    });
    return q;
  }

  /** Resolves when the turn has ended, with what the chat should be sent. */
  private async ended(turn: number): Promise<TurnEnd> {
    await this.host.turns.whenDone(turn)?.catch(() => {});
    return this.endOf(turn);
  }

  /** What an ended turn leaves to say: its reply, an apology, or the notice for a turn a restart cut. */
  private endOf(turn: number): TurnEnd {
    // A thread deleted under its turn (`/new`, expiry, DELETE) has nothing left to say.
    const row = this.host.thread() ? this.host.store.turn(turn) : null;
    if (!row) return { kind: "dropped" };
    const text = this.host.store.message(row.output_seq)?.content ?? "";
    if (row.status === "completed" || ((row.status === "incomplete" || row.status === "cancelled") && text)) return { kind: "reply", text };
    const code = row.error ? (JSON.parse(row.error) as { code?: string }).code : undefined;
    return { kind: code === "turn_interrupted" ? "interrupted" : "failed" };
  }

  /** Brings the object's alarm to at most HEARTBEAT_MS away. */
  private async heartbeat(): Promise<void> {
    const at = Date.now() + HEARTBEAT_MS;
    const current = await this.host.storage.getAlarm();
    if (current === null || current > at) await this.host.storage.setAlarm(at);
  }
}
