/** A fresh, migrated ThreadStore in a real Durable Object's SQLite storage, for unit tests of the store and the event log. */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { THREAD_MIGRATIONS } from "../../migrations/thread/index.ts";
import { applyMigrations } from "../../src/storage/migrate.ts";
import { ThreadStore } from "../../src/thread/store.ts";

/** Runs fn with a store on the migrated storage of a brand-new thread object (holding one thread row). */
export async function withStore<T>(fn: (store: ThreadStore, state: DurableObjectState) => T | Promise<T>): Promise<T> {
  const stub = env.THREADS.get(env.THREADS.newUniqueId());
  return runInDurableObject(stub, async (_o: unknown, state: DurableObjectState) => {
    applyMigrations(state.storage, THREAD_MIGRATIONS);
    const store = new ThreadStore(state.storage.sql);
    store.insertThread({ id: "thread_unit", tenant: "local", id_prefix: "abcdefghijkl", created_at: 1, updated_at: 1,
      model: "m", instructions: null, metadata: "{}", params: "{}", expires_after: null });
    return fn(store, state);
  });
}

