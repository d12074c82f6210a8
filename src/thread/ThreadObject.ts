/** One conversation: its SQLite history, its turns and its live listeners. Thin; the work is in the modules it calls. */
import { DurableObject } from "cloudflare:workers";
import { THREAD_MIGRATIONS } from "../../migrations/thread/index.ts";
import type { Env } from "../env.ts";
import { BadRequestError, ConflictError, NotFoundError, outcome, type Outcome } from "../errors.ts";
import type { ListQuery, MessageCreate, ThreadCreate, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";
import { listOf, type List, type Message, type Thread, type Turn, type TurnResult } from "../protocol/types.ts";
import { applyMigrations } from "../storage/migrate.ts";
import { DEFAULT_MODEL } from "../upstream/models.ts";
import { EventLog, isTurnEnd, sseFrame } from "./events.ts";
import { messageShape, randomPrefix, seqOf, threadShape, turnShape } from "./shapes.ts";
import { ThreadStore, type ThreadRow } from "./store.ts";
import { checkContentSize, extraOf, TurnRunner } from "./turns.ts";
import { estimateTokens } from "./tokens.ts";

const now = () => Math.floor(Date.now() / 1000);

export class ThreadObject extends DurableObject<Env> {
  private readonly store: ThreadStore;
  private readonly events: EventLog;
  private readonly turns: TurnRunner;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ThreadStore(ctx.storage.sql);
    // The constructor also runs when the object wakes after eviction; SQL is
    // synchronous, and blockConcurrencyWhile keeps requests out until the
    // schema is current and interrupted turns are closed.
    ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage, THREAD_MIGRATIONS);
      this.closeInterruptedTurns();
    });
    this.events = new EventLog(this.store, () => this.store.thread()?.id ?? "");
    this.turns = new TurnRunner({
      store: this.store,
      events: this.events,
      env,
      thread: () => this.store.thread(),
      touched: () => this.syncDirectory(),
    });
  }

  /** Creates the thread in this (empty) object; 409 if it already holds one. */
  async create(tenant: string, id: string, body: ThreadCreate): Promise<Outcome<Thread>> {
    return outcome(async () => {
      if (this.store.thread()) throw new ConflictError(`A thread with id '${id}' already exists.`, "thread_exists");
      const t = now();
      this.store.insertThread({
        id, tenant, id_prefix: randomPrefix(), created_at: t, updated_at: t,
        model: body.model ?? this.env.DEFAULT_MODEL ?? DEFAULT_MODEL,
        instructions: body.instructions ?? null,
        metadata: JSON.stringify(body.metadata ?? {}),
        params: JSON.stringify(body.params ?? {}),
        expires_after: body.expires_after ? JSON.stringify(body.expires_after) : null,
      });
      await this.syncDirectory();
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
        instructions: body.instructions === undefined ? undefined : body.instructions,
        metadata: body.metadata === undefined ? undefined : JSON.stringify(body.metadata),
        params: body.params === undefined ? undefined : JSON.stringify(body.params),
        expires_after: body.expires_after === undefined ? undefined : body.expires_after && JSON.stringify(body.expires_after),
      });
      // updateThread skips undefined but must write explicit nulls.
      if (body.instructions === null) this.ctx.storage.sql.exec("UPDATE thread SET instructions = NULL");
      if (body.expires_after === null) this.ctx.storage.sql.exec("UPDATE thread SET expires_after = NULL");
      const thread = this.shape(this.required());
      this.events.emit({ type: "thread.updated", thread });
      await this.syncDirectory();
      return thread;
    });
  }

  /** Deletes the thread: running turns are aborted and every byte of storage is wiped. */
  async delete(): Promise<Outcome<{ id: string; object: "thread.deleted"; deleted: true }>> {
    return outcome(async () => {
      const t = this.required();
      const running = this.store.unfinishedTurns();
      for (const r of running) this.turns.cancel(r.seq);
      await this.ctx.storage.deleteAll();
      await this.ctx.storage.deleteAlarm();
      // deleteAll drops the schema too; put it back so this object can hold a new thread with the same ID.
      applyMigrations(this.ctx.storage, THREAD_MIGRATIONS);
      this.events.reset();
      await this.directory(t.tenant).remove(t.id);
      return { id: t.id, object: "thread.deleted" as const, deleted: true as const };
    });
  }

  async listMessages(q: ListQuery): Promise<Outcome<List<Message>>> {
    return outcome(() => {
      const t = this.required();
      const limit = q.limit ?? 20;
      const order = q.order ?? "asc";
      const after = q.after === undefined ? undefined : this.cursor(t, q.after, "after");
      const before = q.before === undefined ? undefined : this.cursor(t, q.before, "before");
      // `after` continues in the listing's order, so in desc order it bounds seq from above.
      const rows = this.store.messagesPage(order === "asc"
        ? { above: after, below: before, order, limit }
        : { above: before, below: after, order, limit });
      return listOf(rows.map((r) => messageShape(t, r)), limit);
    });
  }

  /** Appends one message without running a turn. */
  async appendMessage(body: MessageCreate): Promise<Outcome<Message>> {
    return outcome(async () => {
      const t = this.required();
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
      const message = messageShape(t, row);
      this.events.emit({ type: "message.created", message });
      await this.syncDirectory();
      return message;
    });
  }

  async getMessage(id: string): Promise<Outcome<Message>> {
    return outcome(() => {
      const t = this.required();
      const row = this.messageRow(t, id);
      return messageShape(t, row);
    });
  }

  async deleteMessage(id: string): Promise<Outcome<{ id: string; object: "thread.message.deleted"; deleted: true }>> {
    return outcome(() => {
      const t = this.required();
      const row = this.messageRow(t, id);
      this.store.deleteMessage(row.seq);
      this.events.emit({ type: "message.deleted", message_id: id });
      return { id, object: "thread.message.deleted" as const, deleted: true as const };
    });
  }

  /** Runs a turn and answers when it has ended: the turn with its reply, or the error that failed it. */
  async runTurn(body: TurnCreate): Promise<Outcome<TurnResult>> {
    return outcome(async () => {
      this.required();
      const { done } = this.turns.start(body);
      const { result, error } = await done;
      if (error) throw error;
      return result;
    });
  }

  /** Starts a turn and returns its events as an SSE byte stream that ends with the turn. */
  async streamTurn(body: TurnCreate): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => {
      this.required();
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      let open = true;
      const { done } = this.turns.start(body, (e) => {
        if (!open) return;
        // A client that went away must not stop the turn: the reply is still written.
        writer.write(sseFrame(e)).catch(() => (open = false));
        if (isTurnEnd(e)) {
          open = false;
          writer.close().catch(() => {});
        }
      });
      this.ctx.waitUntil(done.catch(() => {}));
      return readable;
    });
  }

  async getTurn(id: string): Promise<Outcome<Turn>> {
    return outcome(() => {
      const t = this.required();
      const seq = seqOf(id, "turn", t.id_prefix);
      const row = seq === null ? null : this.store.turn(seq);
      if (!row) throw new NotFoundError(`No turn found with id '${id}'.`, "turn_id");
      return turnShape(t, row);
    });
  }

  private required(): ThreadRow {
    const t = this.store.thread();
    if (!t) throw new NotFoundError("No thread found with that id.", "thread_id");
    return t;
  }

  private shape(t: ThreadRow): Thread {
    return threadShape(t, this.turns.busy);
  }

  private messageRow(t: ThreadRow, id: string) {
    const seq = seqOf(id, "msg", t.id_prefix);
    const row = seq === null ? null : this.store.message(seq);
    if (!row) throw new NotFoundError(`No message found with id '${id}'.`, "message_id");
    return row;
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

  private directory(tenant: string) {
    return this.env.DIRECTORY.get(this.env.DIRECTORY.idFromName(tenant));
  }

  /** Refreshes this thread's row in the tenant directory (used only for listing). */
  private async syncDirectory(): Promise<void> {
    const t = this.store.thread();
    if (!t) return;
    await this.directory(t.tenant).upsert({ id: t.id, created_at: t.created_at, activity_ms: Date.now(), metadata: t.metadata });
  }
}
