/** One conversation: its SQLite history, its turns and its live listeners. Thin; the work is in the modules it calls. */
import { DurableObject } from "cloudflare:workers";
import { THREAD_MIGRATIONS } from "../../migrations/thread/index.ts";
import type { Env } from "../env.ts";
import { ApiError, BadRequestError, ConflictError, NotFoundError, outcome, type Outcome } from "../errors.ts";
import type { ClientFrame, ListQuery, MessageCreate, ThreadCreate, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";
import { listOf, type List, type Message, type Thread, type Turn, type TurnResult } from "../protocol/types.ts";
import { applyMigrations } from "../storage/migrate.ts";
import { DEFAULT_MODEL } from "../upstream/models.ts";
import { EventLog, isTurnEnd, turnOfEvent } from "./events.ts";
import { bodyHash, IDEMPOTENCY_TTL_MS, recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { messageShape, randomPrefix, seqOf, threadShape, turnShape } from "./shapes.ts";
import { broadcast, handleFrame, snapshotFrame, type SocketAttachment } from "./sockets.ts";
import { followEvents } from "./sse.ts";
import { ThreadStore, type ThreadRow } from "./store.ts";
import { estimateTokens } from "./tokens.ts";
import { checkContentSize, extraOf, TurnRunner } from "./turns.ts";

const now = () => Math.floor(Date.now() / 1000);

/** Streamed deltas stay in the resume buffer this long; other events a day. */
const DELTA_RETENTION_MS = 3600 * 1000;
const EVENT_RETENTION_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

type Deleted<T extends string> = { id: string; object: T; deleted: true };

export class ThreadObject extends DurableObject<Env> {
  private readonly store: ThreadStore;
  private readonly events: EventLog;
  private readonly turns: TurnRunner;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ThreadStore(ctx.storage.sql);
    // The constructor also runs when the object wakes after eviction or
    // hibernation; blockConcurrencyWhile keeps every request and socket message
    // out until the schema is current and interrupted turns are closed.
    ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage, THREAD_MIGRATIONS);
      this.closeInterruptedTurns();
    });
    this.events = new EventLog(this.store, () => this.turns.busy);
    this.turns = new TurnRunner({
      store: this.store,
      events: this.events,
      env,
      thread: () => this.store.thread(),
      touched: () => this.afterActivity(),
    });
    // Every event goes to every socket, whichever surface caused it. Sockets
    // accepted with acceptWebSocket survive hibernation, and getWebSockets()
    // finds them again after the object wakes.
    this.events.subscribe((e) => broadcast(this.ctx.getWebSockets(), e));
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** Creates the thread in this (empty) object; 409 if it already holds one, unless this is an idempotent retry. */
  async create(tenant: string, id: string, body: ThreadCreate, idem?: IdempotencyKey): Promise<Outcome<Thread>> {
    return outcome(async () => {
      if (this.store.thread()) {
        if (recall(this.store, idem)) return this.shape(this.required());
        throw new ConflictError(`A thread with id '${id}' already exists.`, "thread_exists");
      }
      const t = now();
      this.store.insertThread({
        id, tenant, id_prefix: randomPrefix(), created_at: t, updated_at: t,
        model: body.model ?? this.env.DEFAULT_MODEL ?? DEFAULT_MODEL,
        instructions: body.instructions ?? null,
        metadata: JSON.stringify(body.metadata ?? {}),
        params: JSON.stringify(body.params ?? {}),
        expires_after: body.expires_after ? JSON.stringify(body.expires_after) : null,
      });
      remember(this.store, idem, { id });
      await this.afterActivity();
      return this.shape(this.required());
    });
  }

  async get(): Promise<Outcome<Thread>> {
    return outcome(() => this.shape(this.required()));
  }

  async update(body: ThreadUpdate): Promise<Outcome<Thread>> {
    return outcome(async () => {
      this.required();
      this.store.updateThread({
        updated_at: now(),
        model: body.model,
        metadata: body.metadata === undefined ? undefined : JSON.stringify(body.metadata),
        params: body.params === undefined ? undefined : JSON.stringify(body.params),
      });
      if (body.instructions !== undefined) this.store.setNullable("instructions", body.instructions);
      if (body.expires_after !== undefined) this.store.setNullable("expires_after", body.expires_after && JSON.stringify(body.expires_after));
      const thread = this.shape(this.required());
      this.events.emit({ type: "thread.updated", thread });
      await this.afterActivity();
      return thread;
    });
  }

  /** Deletes the thread: turns are cancelled, sockets closed, and every byte of storage is wiped. */
  async delete(): Promise<Outcome<Deleted<"thread.deleted">>> {
    return outcome(() => this.wipe());
  }

  async listMessages(q: ListQuery): Promise<Outcome<List<Message>>> {
    return outcome(() => this.messagesPage(this.required(), q));
  }

  /** Appends one message without running a turn. */
  async appendMessage(body: MessageCreate, idem?: IdempotencyKey): Promise<Outcome<Message>> {
    return outcome(async () => {
      const t = this.required();
      const seen = recall<{ seq: number }>(this.store, idem);
      if (seen) return this.messageOrGone(t, seen.seq);
      checkContentSize(body.content, "content");
      const seq = this.store.allocateSeqs(1);
      const row = {
        seq, role: body.role, content: body.content, status: "completed" as const, turn: null, created_at: now(),
        tokens: estimateTokens(body.content),
        metadata: body.metadata && Object.keys(body.metadata).length ? JSON.stringify(body.metadata) : null,
        usage: null, extra: extraOf(body),
      };
      this.store.insertMessage(row);
      this.store.updateThread({ updated_at: row.created_at });
      remember(this.store, idem, { seq });
      const message = messageShape(t, row);
      this.events.emit({ type: "message.created", message });
      await this.afterActivity();
      return message;
    });
  }

  async getMessage(id: string): Promise<Outcome<Message>> {
    return outcome(() => {
      const t = this.required();
      return messageShape(t, this.messageRow(t, id));
    });
  }

  async deleteMessage(id: string): Promise<Outcome<Deleted<"thread.message.deleted">>> {
    return outcome(() => {
      const t = this.required();
      const row = this.messageRow(t, id);
      this.store.deleteMessage(row.seq);
      this.events.emit({ type: "message.deleted", message_id: id });
      return { id, object: "thread.message.deleted" as const, deleted: true as const };
    });
  }

  /** Runs a turn and answers when it has ended: the turn with its reply, or the error that failed it. */
  async runTurn(body: TurnCreate, idem?: IdempotencyKey): Promise<Outcome<TurnResult>> {
    return outcome(async () => {
      this.required();
      const seen = recall<{ turn: number }>(this.store, idem);
      const seq = seen ? seen.turn : this.startTurn(body, idem).turn;
      return this.turnResult(seq);
    });
  }

  /** Starts a turn (or finds the one an idempotent retry names) and streams its events as SSE until it ends. */
  async streamTurn(body: TurnCreate, idem?: IdempotencyKey): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => {
      this.required();
      const seen = recall<{ turn: number; after: number }>(this.store, idem);
      const { turn: seq, after } = seen ?? this.startTurn(body, idem);
      const turnId = turnShape(this.required(), this.store.turn(seq)!).id;
      const stream = followEvents(this.events, {
        after,
        filter: (e) => turnOfEvent(e) === turnId,
        until: isTurnEnd,
        idle: () => this.turns.whenDone(seq) === null && this.store.turn(seq)?.status !== "queued",
      });
      if (!stream) throw new BadRequestError("This turn's events are no longer kept; read its result with GET …/turns/{turn_id}.", null, "resume_window_expired");
      return stream;
    });
  }

  /** The thread's events after `after` as SSE, following live events until no turn is queued or running. */
  async streamEvents(after: number | null): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => {
      this.required();
      const from = after ?? this.events.lastSeq();
      const stream = followEvents(this.events, {
        after: from,
        until: (e) => isTurnEnd(e) && this.turns.pendingCount <= 1,
        idle: () => !this.turns.busy,
      });
      if (!stream) {
        throw new BadRequestError(`Events after ${from} are no longer kept; list the messages and join live without 'after'.`, "after", "resume_window_expired");
      }
      return stream;
    });
  }

  async getTurn(id: string): Promise<Outcome<Turn>> {
    return outcome(() => this.turnShapeOf(id));
  }

  /** Cancels a turn and answers with its final state; a finished turn is answered as it is. */
  async cancelTurn(id: string): Promise<Outcome<Turn>> {
    return outcome(async () => {
      const seq = this.turnShapeOf(id) && seqOf(id, "turn", this.required().id_prefix)!;
      await this.turns.cancel(seq);
      return this.turnShapeOf(id);
    });
  }

  /** WebSocket upgrade for /v1/threads/{id}/ws (the Worker has checked the route and the caller). */
  override async fetch(req: Request): Promise<Response> {
    const t = this.store.thread();
    if (!t) return new NotFoundError("No thread found with that id.", "thread_id").toResponse();
    const afterParam = new URL(req.url).searchParams.get("after");
    const after = afterParam === null ? null : Number(afterParam);
    if (after !== null && !(Number.isInteger(after) && after >= 0)) {
      return new BadRequestError("'after' must be a non-negative integer event seq.", "after").toResponse();
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ connectedAt: Date.now() } satisfies SocketAttachment);
    const replay = after === null ? null : this.events.replay(after);
    if (replay) {
      for (const e of replay) server.send(JSON.stringify(e));
    } else {
      // No `after`, or one older than the resume buffer: the newest page only, never the whole history.
      const page = this.messagesPage(t, { order: "desc", limit: 50 });
      page.data.reverse();
      server.send(JSON.stringify(snapshotFrame(this.shape(t), page, this.events.lastSeq())));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await handleFrame(ws, message, {
      startTurn: async (frame) => this.startTurnFromSocket(frame),
      cancelTurn: async (turnId) => unwrapLocal(await this.cancelTurn(turnId)),
    });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, "socket error");
    } catch {
      // Already closed.
    }
  }

  /** Prunes the resume buffer and idempotency keys, and deletes the thread once it has expired. */
  override async alarm(): Promise<void> {
    const t = this.store.thread();
    if (!t) return;
    const nowMs = Date.now();
    const expiresAt = this.expiresAtMs(t);
    if (expiresAt !== null && nowMs >= expiresAt && !this.turns.busy) {
      await this.wipe();
      return;
    }
    this.events.flush();
    this.store.pruneEvents(nowMs - DELTA_RETENTION_MS, nowMs - EVENT_RETENTION_MS);
    this.store.pruneIdempotency(nowMs - IDEMPOTENCY_TTL_MS);
    // An expired thread with a turn still running is looked at again shortly.
    const next = expiresAt !== null && expiresAt <= nowMs ? nowMs + 1000 : Math.min(nowMs + PRUNE_EVERY_MS, expiresAt ?? Infinity);
    await this.ctx.storage.setAlarm(next);
  }

  /** Starts a turn and records it under the idempotency key: `turn` is its seq, `after` the event seq before it. */
  private startTurn(body: TurnCreate, idem?: IdempotencyKey): { turn: number; after: number } {
    const after = this.events.lastSeq();
    const { turn, done } = this.turns.start(body);
    const seq = seqOf(turn.id, "turn", this.required().id_prefix)!;
    remember(this.store, idem, { turn: seq, after });
    // The turn goes on even if the caller goes away.
    this.ctx.waitUntil(done.catch(() => {}));
    return { turn: seq, after };
  }

  private async startTurnFromSocket(frame: Extract<ClientFrame, { type: "turn.create" }>): Promise<Turn> {
    this.required();
    const { type: _, request_id, ...body } = frame;
    const idem = request_id ? { key: `ws:${request_id}`, hash: await bodyHash(body) } : undefined;
    const seen = recall<{ turn: number }>(this.store, idem);
    const seq = seen ? seen.turn : this.startTurn(body, idem).turn;
    return turnShape(this.required(), this.store.turn(seq)!);
  }

  /** The turn with its reply once it has ended; a failed turn throws the error it failed with. */
  private async turnResult(seq: number): Promise<TurnResult> {
    const running = this.turns.whenDone(seq);
    if (running) {
      const { result, error } = await running;
      if (error) throw error;
      return result;
    }
    const t = this.required();
    const row = this.store.turn(seq);
    if (!row) throw new NotFoundError("The turn no longer exists.");
    const turn = turnShape(t, row);
    if (turn.status === "failed" && turn.error) throw errorFromTurn(turn.error);
    const out = this.store.message(row.output_seq);
    return { ...turn, output: out ? messageShape(t, out) : null };
  }

  private messagesPage(t: ThreadRow, q: ListQuery): List<Message> {
    const limit = q.limit ?? 20;
    const order = q.order ?? "asc";
    const after = q.after === undefined ? undefined : this.cursor(t, q.after, "after");
    const before = q.before === undefined ? undefined : this.cursor(t, q.before, "before");
    // `after` continues in the listing's order, so in desc order it bounds seq from above.
    const rows = this.store.messagesPage(order === "asc"
      ? { above: after, below: before, order, limit }
      : { above: before, below: after, order, limit });
    return listOf(rows.map((r) => messageShape(t, r)), limit);
  }

  private async wipe(): Promise<Deleted<"thread.deleted">> {
    const t = this.required();
    for (const r of this.store.unfinishedTurns()) void this.turns.cancel(r.seq);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "thread deleted");
      } catch {
        // Already closed.
      }
    }
    this.events.reset();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the schema too; put it back so this object can hold a new thread with the same ID.
    applyMigrations(this.ctx.storage, THREAD_MIGRATIONS);
    await this.directory(t.tenant).remove(t.id);
    return { id: t.id, object: "thread.deleted" as const, deleted: true as const };
  }

  private required(): ThreadRow {
    const t = this.store.thread();
    if (!t) throw new NotFoundError("No thread found with that id.", "thread_id");
    return t;
  }

  private shape(t: ThreadRow): Thread {
    return threadShape(t, this.turns.busy);
  }

  private turnShapeOf(id: string): Turn {
    const t = this.required();
    const seq = seqOf(id, "turn", t.id_prefix);
    const row = seq === null ? null : this.store.turn(seq);
    if (!row) throw new NotFoundError(`No turn found with id '${id}'.`, "turn_id");
    return turnShape(t, row);
  }

  private messageRow(t: ThreadRow, id: string) {
    const seq = seqOf(id, "msg", t.id_prefix);
    const row = seq === null ? null : this.store.message(seq);
    if (!row) throw new NotFoundError(`No message found with id '${id}'.`, "message_id");
    return row;
  }

  private messageOrGone(t: ThreadRow, seq: number): Message {
    const row = this.store.message(seq);
    if (!row) throw new NotFoundError("The message this key created has since been deleted.", "message_id");
    return messageShape(t, row);
  }

  /** A list cursor as a seq; any ID of this thread works, even of a deleted message. */
  private cursor(t: ThreadRow, id: string, param: string): number {
    const seq = seqOf(id, "msg", t.id_prefix);
    if (seq === null) throw new BadRequestError(`'${id}' is not a message id of this thread.`, param);
    return seq;
  }

  /** Turns a crash or eviction left open are closed as failed, so the thread is never busy forever. */
  private closeInterruptedTurns(): void {
    const open = this.store.unfinishedTurns();
    const error = JSON.stringify({ message: "The turn was interrupted by a restart of its Durable Object.",
      type: "upstream_error", param: null, code: "turn_interrupted" });
    for (const r of open) this.store.updateTurn(r.seq, { status: "failed", error, completed_at: now() });
  }

  private expiresAtMs(t: ThreadRow): number | null {
    if (!t.expires_after) return null;
    const { seconds } = JSON.parse(t.expires_after) as { seconds: number };
    return (t.updated_at + seconds) * 1000;
  }

  private directory(tenant: string) {
    return this.env.DIRECTORY.get(this.env.DIRECTORY.idFromName(tenant));
  }

  /** After any change: refresh the tenant directory and make sure the alarm (pruning, expiry) is set. */
  private async afterActivity(): Promise<void> {
    const t = this.store.thread();
    if (!t) return;
    const expiresAt = this.expiresAtMs(t);
    const current = await this.ctx.storage.getAlarm();
    // Activity pushes an expiry back; otherwise an alarm already set is left alone.
    if (current === null || expiresAt !== null) {
      await this.ctx.storage.setAlarm(Math.min(Date.now() + PRUNE_EVERY_MS, expiresAt ?? Infinity));
    }
    const entry = { id: t.id, created_at: t.created_at, activity_ms: Date.now(), metadata: t.metadata };
    // Listing order may trail a turn by a moment, so the reply does not wait for
    // the directory; calls from this object to that stub arrive in order.
    this.ctx.waitUntil(this.directory(t.tenant).upsert(entry).catch((err) => console.error("directory update failed", err)));
  }
}

/** The ApiError a stored turn error stands for, with the status its type implies. */
function errorFromTurn(e: NonNullable<Turn["error"]>): ApiError {
  const status = { invalid_request_error: 400, rate_limit_error: 429, conflict_error: 409, not_found_error: 404 }[e.type] ?? 502;
  return new ApiError(status, e.type, e.message, e.param, e.code);
}

/** The value of a local outcome, or its error thrown again (for callers inside the object). */
function unwrapLocal<T>(o: Outcome<T>): T {
  if ("error" in o) throw ApiError.fromWire(o.error);
  return o.ok;
}
