/** Numbered SQL migrations for a SQLite-backed Durable Object. */

export interface Migration {
  /** File name without extension, e.g. "0002_turns"; the number is its position. */
  name: string;
  sql: string;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, each
 * in its own transaction. Never edit a migration that has shipped: objects that
 * already applied it will not run it again, so the edit would split the fleet
 * into two schemas. Add a new numbered file instead.
 * (SQLite's PRAGMA user_version is not allowed in Durable Objects, hence the table.)
 */
export function applyMigrations(storage: DurableObjectStorage, migrations: readonly Migration[]): number {
  const sql = storage.sql;
  sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const current = schemaVersion(storage);
  migrations.forEach((m, i) => {
    const version = i + 1;
    if (version <= current) return;
    storage.transactionSync(() => {
      sql.exec(m.sql);
      sql.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", version, m.name, Date.now());
    });
  });
  return migrations.length;
}

/** The highest migration number applied to this object's storage (0 for none). */
export function schemaVersion(storage: DurableObjectStorage): number {
  const row = storage.sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations").one();
  return row.v ?? 0;
}

/** Whether this storage has ever been migrated (a brand-new object has no tables at all). */
export function hasSchema(storage: DurableObjectStorage): boolean {
  return storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").one().n > 0;
}
