/** Typed SQL over a ThreadObject's storage: the only file of the thread that holds SQL. */
import type { MessageStatus, TurnStatus } from "../protocol/types.ts";

export interface ThreadRow {
  id: string;
  tenant: string;
  id_prefix: string;
  created_at: number;
  updated_at: number;
  model: string;
  instructions: string | null;
  metadata: string;
  params: string;
  expires_after: string | null;
  message_count: number;
  input_tokens: number;
  output_tokens: number;
  next_seq: number;
  next_turn: number;
  event_seq: number;
  hidden: number;
}

export interface MessageRow {
  seq: number;
  role: string;
  content: string;
  status: MessageStatus;
  turn: number | null;
  created_at: number;
  tokens: number;
  metadata: string | null;
  usage: string | null;
  extra: string | null;
  /** 1 for a message of a response chain branching off a conversation (not one of its items), else null. */
  branch?: number | null;
}

/** The columns the context builder needs, nothing more. */
export type PromptRow = Pick<MessageRow, "seq" | "role" | "content" | "tokens" | "extra">;

export interface TurnRow {
  seq: number;
  status: TurnStatus;
  input_first: number;
  input_last: number;
  output_seq: number;
  model: string;
  usage: string | null;
  error: string | null;
  created_at: number;
  completed_at: number | null;
}

export interface EventRow {
  seq: number;
  last_seq: number;
  type: string;
  ref: number | null;
  data: string | null;
  created_at: number;
}

export interface ResponseRow {
  turn: number;
  parent: number | null;
  request: string;
  deleted: number;
}

export interface IdempotencyRow {
  key: string;
  body_hash: string;
  result: string;
  created_at: number;
}

type Row = Record<string, SqlStorageValue>;

/** Most bound parameters one statement may carry in a Durable Object's SQLite. */
const MAX_BOUND_PARAMETERS = 100;

/** Rows of `columns` values each, in runs that fit one statement's bound parameters. */
function chunked<T>(rows: T[], columns: number): T[][] {
  const per = Math.floor(MAX_BOUND_PARAMETERS / columns);
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

/** `(?, ?, …), (?, ?, …)`: the VALUES of a multi-row insert. */
function placeholders(rows: number, columns: number): string {
  const one = `(${Array(columns).fill("?").join(", ")})`;
  return Array(rows).fill(one).join(", ");
}
type Updatable = Partial<Omit<ThreadRow, "id" | "tenant" | "id_prefix" | "created_at">>;

const THREAD_COLUMNS = new Set<string>([
  "updated_at", "model", "instructions", "metadata", "params", "expires_after",
  "message_count", "input_tokens", "output_tokens", "next_seq", "next_turn", "event_seq",
]);

export class ThreadStore {
  /**
   * The thread row as last read (undefined: read it again). A turn asks for it
   * a dozen times; every statement that writes the thread table applies the
   * same change to it (patch()), and anything that rewrites storage behind this
   * class must drop it (forget()).
   */
  private cached: Readonly<ThreadRow> | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** Drops the cached thread row: after deleteAll, or a transaction that rolled back. */
  forget(): void {
    this.cached = undefined;
  }

  /** Applies to the cached row what a statement just wrote to the stored one. */
  private patch(change: (t: Readonly<ThreadRow>) => Partial<ThreadRow>): void {
    if (this.cached) this.cached = Object.freeze({ ...this.cached, ...change(this.cached) });
  }

  private rows<T>(query: string, ...args: SqlStorageValue[]): T[] {
    return this.sql.exec<Row>(query, ...args).toArray() as T[];
  }

  /** The thread row, or null when this object holds no thread (never created, or deleted). */
  thread(): ThreadRow | null {
    if (this.cached === undefined) {
      const row = this.rows<ThreadRow>("SELECT * FROM thread LIMIT 1")[0];
      this.cached = row ? Object.freeze(row) : null;
    }
    return this.cached;
  }

  insertThread(t: Omit<ThreadRow, "message_count" | "input_tokens" | "output_tokens" | "next_seq" | "next_turn" | "event_seq" | "hidden"> & { hidden?: boolean }): void {
    this.cached = undefined;
    this.sql.exec(
      `INSERT INTO thread (id, tenant, id_prefix, created_at, updated_at, model, instructions, metadata, params, expires_after, hidden)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      t.id, t.tenant, t.id_prefix, t.created_at, t.updated_at, t.model, t.instructions, t.metadata, t.params, t.expires_after, t.hidden ? 1 : 0,
    );
  }

  /** Updates the named thread columns; the column names come from THREAD_COLUMNS, never from input. */
  updateThread(fields: Updatable): void {
    const entries = Object.entries(fields).filter(([k, v]) => v !== undefined && THREAD_COLUMNS.has(k));
    if (entries.length === 0) return;
    const set = entries.map(([k]) => `${k} = ?`).join(", ");
    this.sql.exec(`UPDATE thread SET ${set}`, ...entries.map(([, v]) => v as SqlStorageValue));
    this.patch(() => Object.fromEntries(entries) as Partial<ThreadRow>);
  }

  /** Sets a nullable text column of the thread (null clears it). */
  setNullable(column: "instructions" | "expires_after", value: string | null): void {
    if (column === "instructions") this.sql.exec("UPDATE thread SET instructions = ?", value);
    else this.sql.exec("UPDATE thread SET expires_after = ?", value);
    this.patch(() => ({ [column]: value }));
  }

  /**
   * The bookkeeping of a write of new messages on the thread row, in one
   * statement: hands out `messages` consecutive message seqs (never reused,
   * even after deletes) and `turns` (0 or 1) turn numbers, adds `counted` to
   * the message count (the thread's own messages about to be inserted with
   * insertCounted) and stamps updated_at when given. Answers the first seq and
   * the turn number (meaningful when `turns` is 1).
   */
  reserve(r: { messages: number; turns: 0 | 1; counted: number; updated_at?: number }): { first: number; turn: number } {
    const row = this.sql.exec<{ first: number; turn: number }>(
      `UPDATE thread SET next_seq = next_seq + ?, next_turn = next_turn + ?, message_count = message_count + ?, updated_at = coalesce(?, updated_at)
       RETURNING next_seq - ? AS first, next_turn - ? AS turn`, r.messages, r.turns, r.counted, r.updated_at ?? null, r.messages, r.turns).one();
    this.patch((t) => ({ next_seq: row.first + r.messages, next_turn: row.turn + r.turns, message_count: t.message_count + r.counted,
      updated_at: r.updated_at ?? t.updated_at }));
    return row;
  }

  /** Inserts messages whose place in the thread's message count the caller has already written (reserve, updateThread). */
  insertCounted(rows: MessageRow[]): void {
    for (const chunk of chunked(rows, 11)) {
      this.sql.exec(
        `INSERT INTO messages (seq, role, content, status, turn, created_at, tokens, metadata, usage, extra, branch) VALUES ${placeholders(chunk.length, 11)}`,
        ...chunk.flatMap((m) => [m.seq, m.role, m.content, m.status, m.turn, m.created_at, m.tokens, m.metadata, m.usage, m.extra, m.branch ?? null]),
      );
    }
  }

  message(seq: number): MessageRow | null {
    return this.rows<MessageRow>("SELECT * FROM messages WHERE seq = ?", seq)[0] ?? null;
  }

  /** Deletes one message; returns whether it existed. */
  deleteMessage(seq: number): boolean {
    const gone = this.rows<{ branch: number | null }>("DELETE FROM messages WHERE seq = ? RETURNING branch", seq)[0];
    if (gone && !gone.branch) {
      this.sql.exec("UPDATE thread SET message_count = message_count - 1");
      this.patch((t) => ({ message_count: t.message_count - 1 }));
    }
    return gone !== undefined;
  }

  /** One page of messages with seq strictly between above and below, in the given order, at most limit + 1 rows. */
  messagesPage(opts: { above?: number; below?: number; order: "asc" | "desc"; limit: number; withBranches?: boolean }): MessageRow[] {
    const lo = opts.above ?? 0;
    const hi = opts.below ?? Number.MAX_SAFE_INTEGER;
    const dir = opts.order === "asc" ? "ASC" : "DESC";
    // Branch messages (a chain continuing a conversation's response) are not the thread's own.
    const own = opts.withBranches ? "" : "AND branch IS NULL";
    return this.rows<MessageRow>(
      `SELECT * FROM messages WHERE seq > ? AND seq < ? ${own} ORDER BY seq ${dir} LIMIT ?`, lo, hi, opts.limit + 1,
    );
  }

  /** Newest first, the prompt columns of at most `limit` messages with seq below `below`. */
  promptRowsBelow(below: number, limit: number): PromptRow[] {
    return this.rows<PromptRow>(
      "SELECT seq, role, content, tokens, extra FROM messages WHERE seq < ? AND branch IS NULL ORDER BY seq DESC LIMIT ?", below, limit,
    );
  }

  /** At most `limit` of the thread's own messages below `below`, without their content, newest first: what the open-call checks read. */
  recentToolFields(limit: number, below = Number.MAX_SAFE_INTEGER): PromptRow[] {
    return this.rows<PromptRow>(
      "SELECT seq, role, '' AS content, tokens, extra FROM messages WHERE seq < ? AND branch IS NULL ORDER BY seq DESC LIMIT ?", below, limit,
    );
  }

  insertTurn(t: TurnRow): void {
    this.sql.exec(
      `INSERT INTO turns (seq, status, input_first, input_last, output_seq, model, usage, error, created_at, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      t.seq, t.status, t.input_first, t.input_last, t.output_seq, t.model, t.usage, t.error, t.created_at, t.completed_at,
    );
  }

  turn(seq: number): TurnRow | null {
    return this.rows<TurnRow>("SELECT * FROM turns WHERE seq = ?", seq)[0] ?? null;
  }

  /** Sets a turn's status and, when given, its outcome fields; answers the row as it now is (one statement, not a write and a read). */
  updateTurn(seq: number, f: { status: TurnStatus; model?: string; usage?: string | null; error?: string | null; completed_at?: number | null }): TurnRow {
    return this.rows<TurnRow>(
      `UPDATE turns SET status = ?, model = coalesce(?, model), usage = coalesce(?, usage), error = coalesce(?, error),
       completed_at = coalesce(?, completed_at) WHERE seq = ? RETURNING *`,
      f.status, f.model ?? null, f.usage ?? null, f.error ?? null, f.completed_at ?? null, seq,
    )[0]!;
  }

  /** Moves a queued turn to in_progress and answers it; null if it is no longer queued (cancelled while it waited) or gone. */
  startQueuedTurn(seq: number): TurnRow | null {
    return this.rows<TurnRow>("UPDATE turns SET status = 'in_progress' WHERE seq = ? AND status = 'queued' RETURNING *", seq)[0] ?? null;
  }

  /** Turns left queued or in progress (by a crash or eviction), via a partial index that holds only those. */
  unfinishedTurns(): TurnRow[] {
    return this.rows<TurnRow>("SELECT * FROM turns WHERE status IN ('queued', 'in_progress') ORDER BY seq");
  }

  /** Inserts event rows, as few statements as the bound-parameter limit allows (one for a turn's start or end). */
  insertEvents(rows: EventRow[]): void {
    for (const chunk of chunked(rows, 6)) {
      this.sql.exec(`INSERT INTO events (seq, last_seq, type, ref, data, created_at) VALUES ${placeholders(chunk.length, 6)}`,
        ...chunk.flatMap((e) => [e.seq, e.last_seq, e.type, e.ref, e.data, e.created_at]));
    }
  }

  /** Stored events from the one holding seq after + 1 on (a delta chunk may start earlier), oldest first, at most limit. */
  eventsFrom(after: number, limit: number): EventRow[] {
    const start = this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM events WHERE seq <= ?", after + 1).one().s ?? 0;
    return this.rows<EventRow>("SELECT * FROM events WHERE seq >= ? ORDER BY seq LIMIT ?", start, limit);
  }

  /** The newest seq a stored event row holds (0 when there is none): one read at the end of the primary key. */
  lastStoredEventSeq(): number {
    return this.rows<{ last_seq: number }>("SELECT last_seq FROM events ORDER BY seq DESC LIMIT 1")[0]?.last_seq ?? 0;
  }

  /**
   * Drops delta chunks older than deltaCutoff and every event older than allCutoff
   * (Unix ms). Walks back from the newest event only as far as the cutoffs, so the
   * work is bounded by recent activity, not the thread's age. The event counter
   * is stored first: the rows about to go may be the only record of the newest seq.
   */
  pruneEvents(deltaCutoff: number, allCutoff: number): void {
    this.sql.exec("UPDATE thread SET event_seq = max(event_seq, ?)", this.lastStoredEventSeq());
    this.forget();
    const lastOld = this.sql.exec<{ s: number | null }>(
      "SELECT max(seq) AS s FROM (SELECT seq FROM events WHERE created_at < ? ORDER BY seq DESC LIMIT 1)", allCutoff).one().s;
    if (lastOld !== null) this.sql.exec("DELETE FROM events WHERE seq <= ?", lastOld);
    const lastOldDelta = this.sql.exec<{ s: number | null }>(
      "SELECT max(seq) AS s FROM (SELECT seq FROM events WHERE created_at < ? ORDER BY seq DESC LIMIT 1)", deltaCutoff).one().s;
    if (lastOldDelta !== null) this.sql.exec("DELETE FROM events WHERE seq <= ? AND type = 'message.delta'", lastOldDelta);
  }

  idempotency(key: string): IdempotencyRow | null {
    return this.rows<IdempotencyRow>("SELECT * FROM idempotency WHERE key = ?", key)[0] ?? null;
  }

  putIdempotency(r: IdempotencyRow): void {
    this.sql.exec("INSERT OR REPLACE INTO idempotency (key, body_hash, result, created_at) VALUES (?, ?, ?, ?)",
      r.key, r.body_hash, r.result, r.created_at);
  }

  /** Forgets idempotency keys older than cutoff (Unix ms). */
  pruneIdempotency(cutoff: number): void {
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", cutoff);
  }

  insertResponse(r: Omit<ResponseRow, "deleted">): void {
    this.sql.exec("INSERT INTO responses (turn, parent, request) VALUES (?, ?, ?)", r.turn, r.parent, r.request);
  }

  /** A stored response by its turn, deleted ones included (a chain may still pass through them). */
  response(turn: number): ResponseRow | null {
    return this.rows<ResponseRow>("SELECT * FROM responses WHERE turn = ?", turn)[0] ?? null;
  }

  markResponseDeleted(turn: number): void {
    this.sql.exec("UPDATE responses SET deleted = 1 WHERE turn = ?", turn);
  }

  /** The prompt columns of the messages with seq in [first, last], newest first. */
  promptRowsBetween(first: number, last: number): PromptRow[] {
    return this.rows<PromptRow>(
      "SELECT seq, role, content, tokens, extra FROM messages WHERE seq >= ? AND seq <= ? ORDER BY seq DESC", first, last,
    );
  }

  insertTicket(hash: string, expiresAt: number): void {
    this.sql.exec("INSERT INTO ws_tickets (hash, expires_at) VALUES (?, ?)", hash, expiresAt);
  }

  /** Consumes a ticket: true if it existed and had not expired; it is gone either way. */
  takeTicket(hash: string, now: number): boolean {
    const row = this.rows<{ expires_at: number }>("DELETE FROM ws_tickets WHERE hash = ? RETURNING expires_at", hash)[0];
    return row !== undefined && row.expires_at > now;
  }

  /** Forgets expired tickets. */
  pruneTickets(now: number): void {
    this.sql.exec("DELETE FROM ws_tickets WHERE expires_at <= ?", now);
  }

  /** Whether anything is left for the alarm to prune later (events, idempotency keys, tickets). */
  hasPrunable(): boolean {
    return this.sql.exec<{ n: number }>(
      `SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM idempotency) OR EXISTS (SELECT 1 FROM ws_tickets) AS n`,
    ).one().n === 1;
  }

  /** The thread's opening system messages (its system prompt), oldest first, at most limit. */
  leadingSystem(limit: number): PromptRow[] {
    const rows = this.rows<PromptRow>(
      "SELECT seq, role, content, tokens, extra FROM messages WHERE branch IS NULL ORDER BY seq ASC LIMIT ?", limit,
    );
    const end = rows.findIndex((r) => r.role !== "system");
    return end === -1 ? rows : rows.slice(0, end);
  }
}
