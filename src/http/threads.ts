/** /v1/threads: create, list, retrieve, update, delete. */
import type { IRequest } from "itty-router";
import type { Env } from "../env.ts";
import { unwrap, type Outcome } from "../errors.ts";
import { ForkCreate, ListQuery, ThreadCreate, ThreadUpdate } from "../protocol/schemas.ts";
import type { Thread } from "../protocol/types.ts";
import { listThreadIds } from "../directory/shards.ts";
import { callIdempotent } from "../stubs.ts";
import { created, idempotencyOf, newObjectId, pathThread, pathThreadId, tenantOf, threadStub } from "./context.ts";
import { parseWith } from "../protocol/parse.ts";
import { parseBody, queryOf } from "./parse.ts";

export async function threadCreate(req: IRequest, env: Env): Promise<Response> {
  const body = await parseBody(req, env, ThreadCreate);
  const tenant = tenantOf(req, env);
  const idem = await idempotencyOf(req, body);
  const id = body.id ?? (await newObjectId("thread", idem));
  return created(unwrap(await threadStub(env, tenant, id).create(tenant, id, body, idem)));
}

export async function threadList(req: IRequest, env: Env): Promise<Response> {
  const q = parseWith(ListQuery, queryOf(req));
  const tenant = tenantOf(req, env);
  const page = await listThreadIds(env, tenant, q);
  // The directory only orders; each thread's own object is the truth about it.
  const threads = await Promise.all(page.data.map(async ({ id }) => {
    const r = await callIdempotent(() => threadStub(env, tenant, id), async (s): Promise<Outcome<Thread>> => await s.get());
    return "ok" in r ? r.ok : null;
  }));
  const data = threads.filter((t): t is Thread => t !== null);
  return Response.json({ ...page, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
}

export async function threadRetrieve(req: IRequest, env: Env): Promise<Response> {
  const tenant = tenantOf(req, env);
  const id = pathThreadId(req);
  return Response.json(unwrap(await callIdempotent(() => threadStub(env, tenant, id), async (s): Promise<Outcome<Thread>> => await s.get())));
}

export async function threadUpdate(req: IRequest, env: Env): Promise<Response> {
  const body = await parseBody(req, env, ThreadUpdate);
  return Response.json(unwrap(await pathThread(req, env).update(body)));
}

export async function threadDelete(req: IRequest, env: Env): Promise<Response> {
  return Response.json(unwrap(await pathThread(req, env).delete()));
}

/**
 * POST /v1/threads/{id}/fork: a new thread (same tenant) with the source's
 * model, instructions, params and metadata, and a copy of its messages up to
 * `message_id` (all by default). The copy moves page by page, so no object
 * holds more than one page at a time; if it fails halfway, the fork is deleted.
 */
export async function threadFork(req: IRequest, env: Env): Promise<Response> {
  const source = pathThread(req, env);
  const body = await parseBody(req, env, ForkCreate);
  const tenant = tenantOf(req, env);
  const idem = await idempotencyOf(req, body);
  const from = unwrap(await source.forkSource(body.message_id));
  const id = body.id ?? (await newObjectId("thread", idem));
  const target = threadStub(env, tenant, id);
  // The RPC type of a thread is too deep for the checker (JSON Schemas in params.tools are `unknown`): named here.
  const { thread, fresh } = unwrap(await target.createFork(tenant, id, from, body.metadata, idem)) as { thread: Thread; fresh: boolean };
  if (!fresh) return created(thread);
  try {
    let after = 0;
    let latest = thread;
    for (let pages = 0; after < from.upTo && pages < 1_000_000; pages++) {
      const page = unwrap(await source.forkPage(after, from.upTo));
      latest = unwrap(await target.importPage(page.rows));
      if (page.rows.length === 0) break;
      after = page.last;
    }
    return created(latest);
  } catch (err) {
    await target.delete().catch(() => {});
    throw err;
  }
}
