/** Builds one thread object's parts and wires them together (the ThreadObject constructor's work). */
import type { Env } from "../env.ts";
import { settingsOf } from "../settings.ts";
import { upstreamFor, type Upstream } from "../upstream/client.ts";
import { Conversations } from "./conversations.ts";
import { EventLog } from "./events.ts";
import { Lifecycle } from "./lifecycle.ts";
import { Messages } from "./messages.ts";
import type { ThreadParts } from "./parts.ts";
import { ResponseCalls } from "./respond.ts";
import { Responses } from "./responses.ts";
import { Retention } from "./retention.ts";
import { broadcast } from "./sockets.ts";
import { ThreadStore } from "./store.ts";
import { TenantLink } from "./tenantLink.ts";
import { TurnCalls } from "./turnCalls.ts";
import { TurnRunner } from "./turns.ts";

/** The modules a ThreadObject delegates to. */
export interface Assembled {
  parts: ThreadParts;
  messages: Messages;
  conversations: Conversations;
  turnCalls: TurnCalls;
  responseCalls: ResponseCalls;
}

/**
 * Creates the parts of the thread object living in `ctx`, and starts its
 * wake-up (migration, interrupted turns). The upstream client is built on
 * first use (a thread can be created and read with no upstream configured),
 * once per object instance, from `baseFetch`.
 */
export function assemble(ctx: DurableObjectState, env: Env, baseFetch?: typeof fetch): Assembled {
  const settings = settingsOf(env);
  let client: Upstream | null = null;
  const upstream = () => (client ??= upstreamFor(env, baseFetch));
  const store = new ThreadStore(ctx.storage.sql);
  const events = new EventLog(store, () => turns.busy);
  const life: Lifecycle = new Lifecycle({
    ctx, store, events, defaultModel: settings.defaultModel,
    cancelTurn: (seq) => void turns.cancel(seq),
    unlist: (t) => tenant.remove(t),
  });
  const tenant = new TenantLink(env, () => life.thread(), (p) => ctx.waitUntil(p));
  const retention = new Retention({
    storage: ctx.storage, store, events,
    thread: () => life.thread(),
    busy: () => turns.busy,
    wipe: () => life.wipe(),
    touchListing: (changed) => tenant.touch(changed),
  });
  const turns: TurnRunner = new TurnRunner({ store, events, thread: () => life.thread(), touched: () => retention.afterActivity(), upstream, settings });
  const parts: ThreadParts = { ctx, env, settings, store, events, turns, life, retention, upstream, admit: (t) => tenant.admit(t) };
  const messages = new Messages(parts);
  const turnCalls = new TurnCalls(parts);
  const responses = new Responses({
    store, turns, events,
    thread: () => life.required(),
    upstream,
    settings,
    turnResult: (seq) => turnCalls.result(seq),
    waitUntil: (p) => ctx.waitUntil(p),
  });
  // Every event goes to every socket, whichever surface caused it. Sockets
  // accepted with acceptWebSocket survive hibernation, and getWebSockets()
  // finds them again after the object wakes.
  events.subscribe((e) => broadcast(ctx.getWebSockets(), e), true);
  // The constructor also runs when the object wakes after eviction or
  // hibernation; blockConcurrencyWhile keeps every request and socket message
  // out until the schema is current and interrupted turns are closed.
  ctx.blockConcurrencyWhile(async () => life.wake());
  // Answered by the runtime without waking the object.
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  return {
    parts, messages, turnCalls,
    conversations: new Conversations(parts, messages),
    responseCalls: new ResponseCalls(parts, responses, turnCalls),
  };
}
