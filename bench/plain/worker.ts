/**
 * Bench-only: DESIGN.md's "plain DO", the reference a turn of ours is compared
 * with (bench/vsPlain.ts). One SQLite-backed Durable Object per thread with a
 * `messages(seq INTEGER PRIMARY KEY, role, content)` table; a turn inserts the
 * user row, selects the last 50 rows and inserts a fixed reply. Nothing else:
 * no model call, no events, no rate limit, no validation beyond the shape of
 * the body. Never deployed; not part of the project's wrangler.toml or src/.
 *
 * Routes (all on 127.0.0.1 under wrangler's local dev server):
 *   GET  /ping              the Worker alone answers (no Durable Object): the request baseline
 *   GET  /t/{id}            one RPC to the thread's object: its newest seq (one indexed read)
 *   POST /t/{id}/turn       {"input": string} -> {"reply", "context", "seq"}
 *   POST /t/{id}/seed       {"messages": [{"role", "content"}]} -> {"last_seq"} (at most 2,000 per call)
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  PLAIN: DurableObjectNamespace<PlainThread>;
}

/** A fixed reply of 200 characters, the length of the bench's inputs. */
const REPLY = ("This is the plain Durable Object's fixed reply, the same on every turn, " +
  "about as long as the messages the bench sends and stores: two hundred characters in all, padded out. ").repeat(2).slice(0, 200);

/** Rows a turn reads back: DESIGN's "selects the last 50". */
const CONTEXT_ROWS = 50;
const MAX_SEED = 2_000;

export class PlainThread extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // The whole "migration": synchronous, so no request can run before it.
    this.sql.exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, role TEXT NOT NULL, content TEXT NOT NULL)");
  }

  /** Inserts the user row, selects the last 50 rows, inserts the reply. */
  turn(input: string): { reply: string; context: number; seq: number } {
    this.sql.exec("INSERT INTO messages (role, content) VALUES ('user', ?)", input);
    const context = this.sql
      .exec<{ seq: number; role: string; content: string }>("SELECT seq, role, content FROM messages ORDER BY seq DESC LIMIT ?", CONTEXT_ROWS)
      .toArray();
    const seq = this.sql.exec<{ seq: number }>("INSERT INTO messages (role, content) VALUES ('assistant', ?) RETURNING seq", REPLY).one().seq;
    return { reply: REPLY, context: context.length, seq };
  }

  /** Appends messages as they are (bench seeding, not timed). */
  seed(messages: { role: string; content: string }[]): { last_seq: number } {
    for (const m of messages) this.sql.exec("INSERT INTO messages (role, content) VALUES (?, ?)", m.role, m.content);
    return { last_seq: this.lastSeq() };
  }

  /** The newest seq (0 when empty): one read at the end of the primary-key index. */
  lastSeq(): number {
    return this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM messages").one().s ?? 0;
  }
}

function bad(message: string, status = 400): Response {
  return Response.json({ error: message }, { status });
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/ping") return new Response("ok");
    const m = /^\/t\/([A-Za-z0-9_-]{1,128})(\/turn|\/seed)?$/.exec(url.pathname);
    if (!m) return bad("not found", 404);
    const stub = env.PLAIN.get(env.PLAIN.idFromName(m[1]!));
    const action = m[2] ?? "";
    if (action === "" && req.method === "GET") return Response.json({ last_seq: await stub.lastSeq() });
    if (req.method !== "POST") return bad("method not allowed", 405);
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return bad("body must be JSON");
    }
    if (action === "/turn") {
      const input = (body as { input?: unknown }).input;
      if (typeof input !== "string" || input === "") return bad("input must be a non-empty string");
      return Response.json(await stub.turn(input));
    }
    if (action === "/seed") {
      const messages = (body as { messages?: unknown }).messages;
      if (!Array.isArray(messages) || messages.length > MAX_SEED ||
        !messages.every((x) => typeof x?.role === "string" && typeof x?.content === "string")) {
        return bad(`messages must be a list of at most ${MAX_SEED} {role, content} strings`);
      }
      return Response.json(await stub.seed(messages as { role: string; content: string }[]));
    }
    return bad("not found", 404);
  },
} satisfies ExportedHandler<Env>;
