/** One shard of a tenant's thread index (src/directory/shards.ts), used to list threads, newest activity first. */
import { DurableObject } from "cloudflare:workers";
import { DIRECTORY_MIGRATIONS } from "../../migrations/directory/index.ts";
import type { Env } from "../env.ts";
import { applyMigrations } from "../storage/migrate.ts";

export interface DirectoryEntry {
  id: string;
  created_at: number;
  activity_ms: number;
  metadata: string;
}

/** Where a thread stands in the listing order. */
export interface Position {
  activity_ms: number;
  id: string;
}

/** One shard's part of a listing page: rows past the cursors, in the listing's order. */
export interface PageQuery {
  desc: boolean;
  limit: number;
  /** Continues in the listing's direction from here. */
  after?: Position;
  /** Goes against the listing's direction from here. */
  before?: Position;
}

type Row = Position & Record<string, SqlStorageValue>;

export class DirectoryObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage, DIRECTORY_MIGRATIONS);
    });
  }

  /** Records a thread's latest state; activity never moves backwards (so a repeated or late update is harmless). */
  async upsert(e: DirectoryEntry): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO threads (id, created_at, activity_ms, metadata) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET activity_ms = max(activity_ms, excluded.activity_ms), metadata = excluded.metadata`,
      e.id, e.created_at, e.activity_ms, e.metadata,
    );
  }

  async remove(id: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM threads WHERE id = ?", id);
  }

  /** A thread's place in the listing order, or null if this shard does not list it. */
  async position(id: string): Promise<Position | null> {
    const row = this.ctx.storage.sql.exec<Row>("SELECT activity_ms, id FROM threads WHERE id = ?", id).toArray()[0];
    return row ? { activity_ms: row.activity_ms, id: row.id } : null;
  }

  /** At most limit + 1 rows past the cursors, in the listing's order, by the (activity_ms, id) index. */
  async page(q: PageQuery): Promise<Position[]> {
    const conds: string[] = [];
    const args: SqlStorageValue[] = [];
    const bound = (p: Position, later: boolean) => {
      conds.push(later ? "(activity_ms, id) > (?, ?)" : "(activity_ms, id) < (?, ?)");
      args.push(p.activity_ms, p.id);
    };
    // "after" continues in the listing's direction, "before" goes against it.
    if (q.after) bound(q.after, !q.desc);
    if (q.before) bound(q.before, q.desc);
    const where = conds.length ? `WHERE ${conds.join(" AND ")}` : "";
    const dir = q.desc ? "DESC" : "ASC";
    return this.ctx.storage.sql
      .exec<Row>(`SELECT activity_ms, id FROM threads ${where} ORDER BY activity_ms ${dir}, id ${dir} LIMIT ?`, ...args, q.limit + 1)
      .toArray()
      .map(({ activity_ms, id }) => ({ activity_ms, id }));
  }
}
