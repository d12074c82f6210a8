/** One per tenant: the index used to list that tenant's threads, newest activity first. */
import { DurableObject } from "cloudflare:workers";
import { DIRECTORY_MIGRATIONS } from "../../migrations/directory/index.ts";
import type { Env } from "../env.ts";
import { BadRequestError, outcome, type Outcome } from "../errors.ts";
import type { ListQuery } from "../protocol/schemas.ts";
import { listOf, type List } from "../protocol/types.ts";
import { applyMigrations } from "../storage/migrate.ts";

export interface DirectoryEntry {
  id: string;
  created_at: number;
  activity_ms: number;
  metadata: string;
}

type Row = DirectoryEntry & Record<string, SqlStorageValue>;

export class DirectoryObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage, DIRECTORY_MIGRATIONS);
    });
  }

  /** Records a thread's latest state; activity never moves backwards. */
  async upsert(e: DirectoryEntry): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO threads (id, created_at, activity_ms, metadata) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET activity_ms = max(activity_ms, excluded.activity_ms), metadata = excluded.metadata`,
      e.id, e.created_at, e.activity_ms, e.metadata,
    );
  }

  /**
   * Takes one turn from the tenant's token bucket (perMinute tokens, refilled
   * continuously); returns null, or the seconds until a token is free. The
   * bucket lives in memory: the object is only evicted after it has been idle,
   * and an idle bucket would be full again anyway.
   */
  async takeTurn(perMinute: number): Promise<number | null> {
    const now = Date.now();
    const rate = perMinute / 60_000;
    this.tokens = Math.min(perMinute, (this.tokens ?? perMinute) + (now - this.refilledAt) * rate);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / rate / 1000));
  }

  private tokens: number | null = null;
  private refilledAt = Date.now();

  async remove(id: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM threads WHERE id = ?", id);
  }

  /**
   * A page of thread IDs in activity order (desc: most recent first), at most
   * limit + 1 rows by the (activity_ms, id) index. A cursor is a thread ID; one
   * that is not in the index (deleted since) is a 400.
   */
  async list(q: ListQuery): Promise<Outcome<List<{ id: string }>>> {
    return outcome(() => {
      const sql = this.ctx.storage.sql;
      const limit = q.limit ?? 20;
      const desc = (q.order ?? "desc") === "desc";
      const conds: string[] = [];
      const args: SqlStorageValue[] = [];
      const bound = (id: string, param: "after" | "before") => {
        const row = sql.exec<Row>("SELECT * FROM threads WHERE id = ?", id).toArray()[0];
        if (!row) throw new BadRequestError(`No thread found with id '${id}' to page from.`, param);
        // "after" continues in the listing's direction, "before" goes against it.
        const later = (param === "after") !== desc;
        conds.push(later ? "(activity_ms, id) > (?, ?)" : "(activity_ms, id) < (?, ?)");
        args.push(row.activity_ms, row.id);
      };
      if (q.after) bound(q.after, "after");
      if (q.before) bound(q.before, "before");
      const where = conds.length ? `WHERE ${conds.join(" AND ")}` : "";
      const dir = desc ? "DESC" : "ASC";
      const rows = sql
        .exec<Row>(`SELECT id FROM threads ${where} ORDER BY activity_ms ${dir}, id ${dir} LIMIT ?`, ...args, limit + 1)
        .toArray();
      return listOf(rows.map((r) => ({ id: r.id })), limit);
    });
  }
}
