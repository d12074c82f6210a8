/** One conversation: its SQLite history, its turns and its live listeners. Thin; the work is in the modules it calls. */
import { DurableObject } from "cloudflare:workers";
import { THREAD_MIGRATIONS } from "../../migrations/thread/index.ts";
import type { Env } from "../env.ts";
import { ApiError, AuthenticationError, BadRequestError, ConflictError, NotFoundError, outcome, unwrap, type Outcome } from "../errors.ts";
import { applyLimitSettings } from "../protocol/limits.ts";
import type { ClientFrame, ListQuery, MessageCreate, ThreadCreate, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";
import { listOf, type List, type Message, type Thread, type Turn, type TurnResult } from "../protocol/types.ts";
import { applyMigrations, hasSchema } from "../storage/migrate.ts";
import { DEFAULT_MODEL } from "../upstream/models.ts";
import { upstreamTimeoutMs } from "../upstream/client.ts";
import { EventLog, isTurnEnd, MAX_UNSTORED_DELTAS, turnOfEvent } from "./events.ts";
import { bodyHash, IDEMPOTENCY_TTL_MS, recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { itemRoleOf, messageShape, randomPrefix, seqOf, threadShape, turnShape } from "./shapes.ts";
import { acceptSocket, broadcast, handleFrame, snapshotFrame, SNAPSHOT_MESSAGES } from "./sockets.ts";
import { followEvents } from "./sse.ts";
import { ThreadStore, type MessageRow, type ThreadRow } from "./store.ts";
import { ephemeralWithoutHistory, messageFromItem, Responses, type ResponseMode } from "./responses.ts";
import type { Conversation, ConversationCreate, MessageItem, MessageItemInput, ResponseCreate, ResponseObject } from "../protocol/openai.ts";
import { itemOf } from "../responses/shape.ts";
import { checkContentSize, extraOf, sentMessageRow, TurnRunner } from "./turns.ts";
import { FORK_PAGE, type ForkedMessage, type ForkSource } from "./fork.ts";
import { TenantLink } from "./tenantLink.ts";
import { issueTicket, takeTicket, type TicketIssued } from "./tickets.ts";

const now = () => Math.floor(Date.now() / 1000);

/** Streamed deltas stay in the resume buffer this long; other events a day. */
const DELTA_RETENTION_MS = 3600 * 1000;
const EVENT_RETENTION_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;
/** Page size of list endpoints without `limit`. */
const DEFAULT_LIMIT = 20;

type Deleted<T extends string> = { id: string; object: T; deleted: true };

export class ThreadObject extends DurableObject<Env> {
  private readonly store: ThreadStore;
  private readonly events: EventLog;
  private readonly turns: TurnRunner;
  private readonly responses: Responses;
  /** Whether the schema is applied (see the constructor). */
  private migrated = false;
  private readonly tenant: TenantLink;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    applyLimitSettings(env as unknown as Record<string, unknown>);
    this.store = new ThreadStore(ctx.storage.sql);
    this.tenant = new TenantLink(env, () => this.threadRow(), (p) => ctx.waitUntil(p));
    this.events = new EventLog(this.store, () => this.turns.busy);
    this.turns = new TurnRunner({
      store: this.store,
      events: this.events,
      env,
      thread: () => this.threadRow(),
      touched: () => this.afterActivity(),
    });
    this.responses = new Responses({
      store: this.store, turns: this.turns, events: this.events,
      thread: () => this.required(),
      upstream: () => this.turns.upstreamClient(),
      idleMs: upstreamTimeoutMs(env),
      turnResult: (seq) => this.turnResult(seq),
      waitUntil: (p) => this.ctx.waitUntil(p),
    });
    // Every event goes to every socket, whichever surface caused it. Sockets
    // accepted with acceptWebSocket survive hibernation, and getWebSockets()
    // finds them again after the object wakes.
    this.events.subscribe((e) => broadcast(this.ctx.getWebSockets(), e), true);
    // The constructor also runs when the object wakes after eviction or
    // hibernation; blockConcurrencyWhile keeps every request and socket message
    // out until the schema is current and interrupted turns are closed.
    ctx.blockConcurrencyWhile(async () => {
      // An object that never held a thread has no schema, and reading it (a 404)
      // must not create storage: migrations run here only for objects that have
      // data, and otherwise on the first create.
      if (hasSchema(ctx.storage)) this.migrate();
    });
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** Creates the thread in this (empty) object; 409 if it already holds one, unless this is an idempotent retry. */
  async create(tenant: string, id: string, body: ThreadCreate, idem?: IdempotencyKey): Promise<Outcome<Thread>> {
    return outcome(async () => {
      if (this.insertThread(tenant, id, body, idem, false)) await this.afterActivity(true);
      return this.shape(this.required());
    });
  }

  /** What a fork of this thread up to `messageId` (default: everything) starts from; 400 if the message is not this thread's. */
  async forkSource(messageId?: string): Promise<Outcome<ForkSource>> {
    return outcome(() => {
      const t = this.required();
      let upTo = t.next_seq - 1;
      if (messageId !== undefined) upTo = this.messageRow(t, messageId, "message_id").seq;
      return { model: t.model, instructions: t.instructions, params: t.params, metadata: t.metadata, upTo };
    });
  }

  /** A page of this thread's own messages with seq in (after, upTo], oldest first, for a fork to copy. */
  async forkPage(after: number, upTo: number): Promise<Outcome<{ rows: ForkedMessage[]; last: number }>> {
    return outcome(() => {
      this.required();
      const rows = this.store.messagesPage({ above: after, below: upTo + 1, order: "asc", limit: FORK_PAGE - 1 });
      return {
        rows: rows.map(({ role, content, status, created_at, tokens, metadata, usage, extra }) =>
          ({ role, content, status, created_at, tokens, metadata, usage, extra })),
        last: rows.at(-1)?.seq ?? upTo,
      };
    });
  }

  /**
   * Creates this object's thread as a fork: `fresh` is false when an
   * idempotent retry finds the fork already made (then nothing is copied again).
   */
  async createFork(tenant: string, id: string, source: ForkSource, metadata: Record<string, string> | undefined, idem?: IdempotencyKey):
    Promise<Outcome<{ thread: Thread; fresh: boolean }>> {
    return outcome(() => {
      const fresh = this.insertThread(tenant, id, {
        model: source.model, instructions: source.instructions,
        params: JSON.parse(source.params) as ThreadCreate["params"],
        metadata: metadata ?? (JSON.parse(source.metadata) as Record<string, string>),
      }, idem, false);
      return { thread: this.shape(this.required()), fresh };
    });
  }

  /** Appends a page of copied messages, in order, keeping their text, status, times and metadata. */
  async importPage(rows: ForkedMessage[]): Promise<Outcome<Thread>> {
    return outcome(async () => {
      this.required();
      if (rows.length) {
        const first = this.store.allocateSeqs(rows.length);
        rows.forEach((r, i) => this.store.insertMessage({ ...r, seq: first + i, turn: null }));
      }
      await this.afterActivity();
      return this.shape(this.required());
    });
  }

  /** Creates a conversation (a thread) with its first items, in one write. */
  async createConversation(tenant: string, id: string, body: ConversationCreate, idem?: IdempotencyKey): Promise<Outcome<Conversation>> {
    return outcome(async () => {
      const items = (body.items ?? []).map(messageFromItem);
      const created = await this.createAtomically(() => {
        if (!this.insertThread(tenant, id, { metadata: body.metadata ?? {}, expires_after: body.expires_after }, idem, false)) return false;
        this.appendRows(this.required(), items);
        return true;
      });
      if (created) await this.afterActivity(true);
      return conversationShape(this.required());
    });
  }

  async getConversation(): Promise<Outcome<Conversation>> {
    return outcome(() => conversationShape(this.required()));
  }

  /** Appends conversation items (at most 20, checked by the Worker); answers them as a list. */
  async addItems(items: MessageItemInput[], idem?: IdempotencyKey): Promise<Outcome<List<MessageItem>>> {
    return outcome(async () => {
      const t = this.required();
      const seen = recall<{ first: number; last: number }>(this.store, idem);
      const rows = seen
        ? this.store.messagesPage({ above: seen.first - 1, below: seen.last + 1, order: "asc", limit: 100 })
        : this.appendRows(t, items.map(messageFromItem));
      if (!seen && rows.length) remember(this.store, idem, { first: rows[0]!.seq, last: rows.at(-1)!.seq });
      if (!seen) await this.afterActivity();
      return listOf(rows.map((r) => itemFromRow(t, r)), rows.length);
    });
  }

  /** Conversation items, newest first by default. */
  async listItems(q: ListQuery): Promise<Outcome<List<MessageItem>>> {
    return outcome(() => {
      const t = this.required();
      return listOf(this.rowsPage(t, q, "desc").map((r) => itemFromRow(t, r)), q.limit ?? DEFAULT_LIMIT);
    });
  }

  async getItem(id: string): Promise<Outcome<MessageItem>> {
    return outcome(() => {
      const t = this.required();
      return itemFromRow(t, this.messageRow(t, id, "item_id"));
    });
  }

  /** Deletes one item and answers with the conversation, as OpenAI does. */
  async deleteItem(id: string): Promise<Outcome<Conversation>> {
    return outcome(() => {
      const t = this.required();
      const row = this.messageRow(t, id, "item_id");
      this.store.deleteMessage(row.seq);
      this.events.emit({ type: "message.deleted", message_id: id });
      return conversationShape(t);
    });
  }

  /**
   * Creates a response. In conversation mode this object is the conversation;
   * in chain mode it holds the chain of previous_response_id (a new chain
   * creates it, hidden from thread listings).
   */
  async respond(tenant: string, id: string, body: ResponseCreate, mode: ResponseMode, conversationId: string | null, idem?: IdempotencyKey):
    Promise<Outcome<ResponseObject | ReadableStream<Uint8Array>>> {
    return outcome(async () => {
      // store:false keeps nothing, not even its idempotency key.
      const key = body.store === false ? undefined : idem;
      const seen = await this.admitTurn<{ turn: number }>(tenant, key);
      if (seen) return this.responses.replay(seen.turn, !!body.stream);
      if (mode.kind === "chain" && mode.previousTurnId === null && !this.threadRow()) {
        // store:false must write nothing, so a new chain only gets a thread when it is stored;
        // and a refused request (bad input, too long) must not leave that thread behind.
        if (body.store === false) {
          return ephemeralWithoutHistory(this.turns.upstreamClient(), upstreamTimeoutMs(this.env), body, this.env.DEFAULT_MODEL ?? DEFAULT_MODEL);
        }
        const pending = await this.createAtomically(() => {
          this.insertThread(tenant, id, { model: body.model }, undefined, true);
          return this.responses.create(body, mode, conversationId, key);
        });
        const result = await pending;
        await this.afterActivity();
        return result;
      }
      if (mode.kind === "conversation" && !this.threadRow()) {
        throw new NotFoundError(`Conversation with id '${id}' not found.`, "conversation");
      }
      if (mode.kind === "chain" && !this.threadRow()) {
        throw new BadRequestError("Previous response not found.", "previous_response_id");
      }
      const result = await this.responses.create(body, mode, conversationId, key);
      if (body.store !== false) await this.afterActivity();
      return result;
    });
  }

  async getResponse(turnId: string): Promise<Outcome<ResponseObject>> {
    return outcome(() => this.responsesOrNotFound().retrieve(turnId));
  }

  async deleteResponse(turnId: string): Promise<Outcome<{ id: string; object: "response"; deleted: true }>> {
    return outcome(() => this.responsesOrNotFound().delete(turnId));
  }

  /** The input items of a stored response, newest first by default. */
  async responseInputItems(turnId: string, q: ListQuery): Promise<Outcome<List<MessageItem>>> {
    return outcome(() => {
      const t = this.required();
      this.responsesOrNotFound().retrieve(turnId);
      const turn = this.store.turn(seqOf(turnId, "turn", t.id_prefix)!)!;
      // A branch response's input is not the thread's own, so branch rows are included here.
      const rows = this.rowsPage(t, q, "desc", { above: turn.input_first - 1, below: turn.input_last + 1 });
      return listOf(rows.map((r) => itemFromRow(t, r)), q.limit ?? DEFAULT_LIMIT);
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
      await this.afterActivity(true);
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
      const [row] = this.appendRows(t, [{ message: body, extra: extraOf(body) }]);
      remember(this.store, idem, { seq: row!.seq });
      await this.afterActivity();
      return messageShape(t, row!);
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
      const seen = await this.admitTurn<{ turn: number }>(this.required().tenant, idem);
      const seq = seen ? seen.turn : this.startTurn(body, idem).turn;
      return this.turnResult(seq);
    });
  }

  /** Starts a turn (or finds the one an idempotent retry names) and streams its events as SSE until it ends. */
  async streamTurn(body: TurnCreate, idem?: IdempotencyKey): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(async () => {
      const seen = await this.admitTurn<{ turn: number; after: number }>(this.required().tenant, idem);
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
        // Replayed turn ends are history; the stream ends at the live end of the last turn.
        until: (e, live) => live && isTurnEnd(e) && this.turns.pendingCount <= 1,
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
      await this.turns.cancel(this.turnRowOf(id).row.seq);
      return this.turnShapeOf(id);
    });
  }

  /** WebSocket upgrade for /v1/threads/{id}/ws (the Worker has checked the route and the caller). */
  override async fetch(req: Request): Promise<Response> {
    const t = this.threadRow();
    const byTicket = req.headers.get("x-durable-threads-auth") !== "bearer";
    // A ticket for a thread that is gone is simply no longer valid.
    if (!t && byTicket) return new AuthenticationError("Invalid, expired or already used WebSocket ticket.").toResponse();
    if (!t) return new NotFoundError("No thread found with that id.", "thread_id").toResponse();
    const url = new URL(req.url);
    if (byTicket) {
      const ticket = url.searchParams.get("ticket") ?? "";
      if (!(await takeTicket(this.store, ticket))) {
        return new AuthenticationError("Invalid, expired or already used WebSocket ticket.").toResponse();
      }
    }
    return acceptSocket(this.ctx, url.searchParams.get("after"), {
      replay: (after) => this.events.replay(after),
      snapshot: () => {
        // The newest page only, never the whole history.
        const page = this.messagesPage(t, { order: "desc", limit: SNAPSHOT_MESSAGES });
        page.data.reverse();
        return snapshotFrame(this.shape(t), page, this.events.lastSeq());
      },
    });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await handleFrame(ws, message, {
      startTurn: async (frame) => this.startTurnFromSocket(frame),
      cancelTurn: async (turnId) => unwrap(await this.cancelTurn(turnId)),
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
    const t = this.threadRow();
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
    // An expired thread with a turn still running is looked at again shortly. Otherwise
    // the alarm comes back only while there is something to prune or an expiry to
    // keep: an idle thread with nothing left is never woken again.
    const prune = this.store.hasPrunable() ? nowMs + PRUNE_EVERY_MS : Infinity;
    const next = expiresAt !== null && expiresAt <= nowMs ? nowMs + 1000 : Math.min(prune, expiresAt ?? Infinity);
    if (next !== Infinity) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Runs a synchronous create in one storage transaction: if it throws, none of
   * its writes stay, nor the schema if this request was the one that made it.
   */
  private async createAtomically<T>(fn: () => T): Promise<T> {
    const fresh = !this.migrated;
    this.migrate();
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      if (fresh) {
        this.events.reset();
        await this.ctx.storage.deleteAll();
        this.migrated = false;
      }
      throw err;
    }
  }

  /** Inserts this object's thread; false if this is an idempotent retry of the create that made it. */
  private insertThread(tenant: string, id: string, body: ThreadCreate, idem: IdempotencyKey | undefined, hidden: boolean): boolean {
    this.migrate();
    if (this.store.thread()) {
      if (recall(this.store, idem)) return false;
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
      hidden,
    });
    remember(this.store, idem, { id });
    return true;
  }

  /** Appends messages (no turn) in one synchronous write, each announced with message.created. */
  private appendRows(t: ThreadRow, items: { message: MessageCreate; extra: string | null }[]): MessageRow[] {
    items.forEach((m, i) => checkContentSize(m.message.content, items.length === 1 ? "content" : `items[${i}].content`));
    if (items.length === 0) return [];
    const first = this.store.allocateSeqs(items.length);
    const created_at = now();
    const rows = items.map(({ message, extra }, i) => sentMessageRow(message, { seq: first + i, turn: null, created_at, extra }));
    for (const row of rows) this.store.insertMessage(row);
    this.store.updateThread({ updated_at: created_at });
    for (const row of rows) this.events.emit({ type: "message.created", message: messageShape(t, row) });
    return rows;
  }

  /** Applies pending migrations and closes turns a restart interrupted; idempotent. */
  private migrate(): void {
    if (this.migrated) return;
    applyMigrations(this.ctx.storage, THREAD_MIGRATIONS);
    this.closeInterruptedTurns();
    this.migrated = true;
  }

  /** The thread row, or null (also for an object with no schema: nothing is created by looking). */
  private threadRow(): ThreadRow | null {
    return this.migrated ? this.store.thread() : null;
  }

  private responsesOrNotFound(): Responses {
    if (!this.threadRow()) throw new NotFoundError("Response not found.", "response_id");
    return this.responses;
  }

  /**
   * What an idempotent retry recorded, or null once the tenant's rate limit let
   * a new turn through. The key is looked up again after the wait, and the
   * turn's start follows synchronously, so two concurrent retries still start
   * one turn. (An object with no thread yet has no keys to look up.)
   */
  private async admitTurn<T>(tenant: string, idem: IdempotencyKey | undefined): Promise<T | null> {
    const seen = () => (idem && this.threadRow() ? recall<T>(this.store, idem) : null);
    const first = seen();
    if (first) return first;
    await this.tenant.admit(tenant);
    return seen();
  }

  /** A single-use WebSocket ticket for this thread, valid for TICKET_TTL_MS. */
  async issueTicket(): Promise<Outcome<TicketIssued>> {
    return outcome(() => issueTicket(this.env, this.store, this.required()));
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
    const { type: _, request_id, ...body } = frame;
    const idem = request_id ? { key: `ws:${request_id}`, hash: await bodyHash(body) } : undefined;
    const seen = await this.admitTurn<{ turn: number }>(this.required().tenant, idem);
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
    return listOf(this.rowsPage(t, q, "asc").map((r) => messageShape(t, r)), q.limit ?? DEFAULT_LIMIT);
  }

  /**
   * The rows of one list page (at most limit + 1), by the list query's cursors
   * and order. `within` narrows it to the open seq range of one turn's input,
   * branch messages included; otherwise only the thread's own messages count.
   */
  private rowsPage(t: ThreadRow, q: ListQuery, defaultOrder: "asc" | "desc", within?: { above: number; below: number }): MessageRow[] {
    const order = q.order ?? defaultOrder;
    const after = q.after === undefined ? undefined : this.cursor(t, q.after, "after");
    const before = q.before === undefined ? undefined : this.cursor(t, q.before, "before");
    // `after` continues in the listing's order, so in desc order it bounds seq from above.
    let [above, below] = order === "asc" ? [after, before] : [before, after];
    if (within) {
      above = Math.max(within.above, above ?? within.above);
      below = Math.min(within.below, below ?? within.below);
    }
    return this.store.messagesPage({ above, below, order, limit: q.limit ?? DEFAULT_LIMIT, withBranches: within !== undefined });
  }

  private async wipe(): Promise<Deleted<"thread.deleted">> {
    const t = this.required();
    for (const r of this.store.unfinishedTurns()) void this.turns.cancel(r.seq);
    // Tells every socket and stream that the thread is gone, and ends the streams.
    this.events.emit({ type: "thread.deleted" });
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
    // deleteAll drops the schema too: the object is as if new, and a create puts the schema back.
    this.migrated = false;
    await this.tenant.remove(t);
    return { id: t.id, object: "thread.deleted" as const, deleted: true as const };
  }

  private required(): ThreadRow {
    const t = this.threadRow();
    if (!t) throw new NotFoundError("No thread found with that id.", "thread_id");
    return t;
  }

  private shape(t: ThreadRow): Thread {
    return threadShape(t, this.turns.busy);
  }

  private turnRowOf(id: string) {
    const t = this.required();
    const seq = seqOf(id, "turn", t.id_prefix);
    const row = seq === null ? null : this.store.turn(seq);
    if (!row) throw new NotFoundError(`No turn found with id '${id}'.`, "turn_id");
    return { t, row };
  }

  private turnShapeOf(id: string): Turn {
    const { t, row } = this.turnRowOf(id);
    return turnShape(t, row);
  }

  private messageRow(t: ThreadRow, id: string, param = "message_id") {
    const seq = seqOf(id, "msg", t.id_prefix);
    const row = seq === null ? null : this.store.message(seq);
    if (!row) throw new NotFoundError(`No ${param === "item_id" ? "item" : "message"} found with id '${id}'.`, param);
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

  /**
   * Turns a crash or eviction left open are closed as failed (and say so with
   * turn.failed), so the thread is never busy forever. Deltas of a reply that
   * was streaming may have had seqs that were never stored, so the event
   * counter first skips past every seq they could have used: no seq a client
   * saw is ever given to another event.
   */
  private closeInterruptedTurns(): void {
    const open = this.store.unfinishedTurns();
    if (open.length === 0) return;
    const error = JSON.stringify({ message: "The turn was interrupted by a restart of its Durable Object.",
      type: "upstream_error", param: null, code: "turn_interrupted" });
    this.events.skip(MAX_UNSTORED_DELTAS);
    const t = this.store.thread();
    for (const r of open) {
      this.store.updateTurn(r.seq, { status: "failed", error, completed_at: now() });
      if (t) this.events.emit({ type: "turn.failed", turn: turnShape(t, this.store.turn(r.seq)!) });
    }
  }

  private expiresAtMs(t: ThreadRow): number | null {
    if (!t.expires_after) return null;
    const { seconds } = JSON.parse(t.expires_after) as { seconds: number };
    return (t.updated_at + seconds) * 1000;
  }

  /** After any change: make sure the alarm (pruning, expiry) is set, and refresh the tenant's listing. */
  private async afterActivity(metadataChanged = false): Promise<void> {
    const t = this.threadRow();
    if (!t) return;
    const expiresAt = this.expiresAtMs(t);
    const current = await this.ctx.storage.getAlarm();
    // Activity pushes an expiry back; otherwise an alarm already set is left alone.
    if (current === null || expiresAt !== null) {
      await this.ctx.storage.setAlarm(Math.min(Date.now() + PRUNE_EVERY_MS, expiresAt ?? Infinity));
    }
    this.tenant.touch(metadataChanged);
  }
}

/** The ApiError a stored turn error stands for, with the status its type implies. */
function errorFromTurn(e: NonNullable<Turn["error"]>): ApiError {
  const status = { invalid_request_error: 400, rate_limit_error: 429, conflict_error: 409, not_found_error: 404 }[e.type] ?? 502;
  return new ApiError(status, e.type, e.message, e.param, e.code);
}

/** A conversation is a thread seen through OpenAI's Conversations API. */
function conversationShape(t: ThreadRow): Conversation {
  return { id: t.id, object: "conversation", created_at: t.created_at, metadata: JSON.parse(t.metadata) as Record<string, string> };
}

/** A stored message as a conversation item (with the Responses role it was given). */
function itemFromRow(t: ThreadRow, row: MessageRow): MessageItem {
  return itemOf({ ...messageShape(t, row), item_role: itemRoleOf(row) });
}
