/**
 * durable-threads/client: a typed client for browsers and Node. REST calls
 * for threads and messages, and `connect` for a thread's live socket (typed
 * frames, turns, cancel, reconnect-and-resume).
 *
 *   const dt = new DurableThreads({ baseUrl: "http://127.0.0.1:8787", apiKey });
 *   const thread = await dt.createThread();
 *   const live = dt.connect(thread.id);
 *   live.on("message.delta", (e) => process.stdout.write(e.delta));
 *   await live.send("Hello!");
 */
import { RestClient, type RestOptions } from "./rest.ts";
import { ThreadSocket, type ThreadSocketOptions, type WebSocketLike } from "./socket.ts";

export { ApiError, RestClient, type RestOptions, type WsTicket } from "./rest.ts";
export { ThreadSocket, type ConnectionStatus, type FrameOf, type ThreadSocketOptions, type TurnInput, type WebSocketLike } from "./socket.ts";
export type { ErrorBody, ReplyFrame, ServerFrame, SnapshotFrame } from "../protocol/frames.ts";
export type { List, Message, MessageStatus, Thread, ThreadEvent, Turn, TurnResult, TurnStatus, Usage } from "../protocol/types.ts";

export interface ConnectOptions extends Omit<ThreadSocketOptions, "url"> {
  /**
   * How the socket proves who it is. "ticket" (the default, and the only way in
   * a browser): a single-use ticket from POST …/ws-tickets before each
   * connection. "header": the API key as an Authorization header on the
   * upgrade, for a WebSocket implementation that can send headers (the `ws`
   * package in Node); pass that implementation as `WebSocket`.
   */
  auth?: "ticket" | "header";
}

/** The whole client: REST methods (from RestClient) plus `connect`. */
export class DurableThreads extends RestClient {
  constructor(opts: RestOptions) {
    super(opts);
  }

  /** Opens a thread's socket; it reconnects by itself, resuming after the last event it delivered. */
  connect(threadId: string, opts: ConnectOptions = {}): ThreadSocket {
    const { auth = "ticket", WebSocket: WS, ...rest } = opts;
    const base = `${this.baseUrl.replace(/^http/, "ws")}/v1/threads/${encodeURIComponent(threadId)}/ws`;
    const withAfter = (q: URLSearchParams, after: number | null) => {
      if (after !== null) q.set("after", String(after));
      const s = q.toString();
      return s ? `${base}?${s}` : base;
    };
    if (auth === "header" && this.apiKey) {
      if (!WS) throw new TypeError('auth: "header" needs a WebSocket implementation that sends headers (e.g. the ws package).');
      const headers = { authorization: `Bearer ${this.apiKey}` };
      // The `ws` package takes headers as a third constructor argument; partysocket passes only two.
      const Base = WS as unknown as new (url: string, protocols: string | string[] | undefined, o: object) => object;
      const WithHeaders = class extends Base {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers });
        }
      } as unknown as WebSocketLike;
      return new ThreadSocket({ ...rest, WebSocket: WithHeaders, url: (after) => withAfter(new URLSearchParams(), after) });
    }
    return new ThreadSocket({
      ...rest,
      WebSocket: WS,
      url: async (after) => {
        const q = new URLSearchParams();
        // Without a key (a deployment without keys) the socket needs no ticket either.
        if (this.apiKey) q.set("ticket", (await this.createTicket(threadId)).ticket);
        return withAfter(q, after);
      },
    });
  }
}
