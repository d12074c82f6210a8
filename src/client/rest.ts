/** The REST half of the client: typed calls to the thread API, errors raised as ApiError with the server's OpenAI-shaped body. */
import type { ErrorBody } from "../protocol/frames.ts";
import type { List, Message, Thread, Turn, TurnResult } from "../protocol/types.ts";
import type { ListQuery, ThreadCreate, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";

export interface RestOptions {
  /** Where the Worker is, e.g. `http://127.0.0.1:8787` (no trailing `/v1`); in a browser, `location.origin`. */
  baseUrl: string;
  /** An API key, sent as `Authorization: Bearer`; leave it out where the deployment has no keys. */
  apiKey?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** A non-2xx answer: the HTTP status and the server's `{error:{message,type,param,code}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly error: ErrorBody;

  constructor(status: number, error: ErrorBody) {
    super(error.message);
    this.name = "ApiError";
    this.status = status;
    this.error = error;
  }
}

/** A WebSocket ticket: single use, valid for 60 seconds, for one thread. */
export interface WsTicket {
  object: "thread.ws_ticket";
  ticket: string;
  expires_at: number;
  url: string;
}

type Query = Record<string, string | number | undefined>;

function queryString(q: Query = {}): string {
  const pairs = Object.entries(q).filter((p): p is [string, string | number] => p[1] !== undefined);
  return pairs.length === 0 ? "" : `?${new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, String(v)]))}`;
}

const path = (id: string) => `/v1/threads/${encodeURIComponent(id)}`;

/** Typed calls to `/v1/threads…`; every method is one request. */
export class RestClient {
  readonly baseUrl: string;
  apiKey: string | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(opts: RestOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    // Called through a wrapper: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    const f = opts.fetch ?? globalThis.fetch;
    this.fetchFn = (input, init) => f(input, init);
  }

  /** One JSON request; a non-2xx answer throws ApiError. */
  async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const res = await this.fetchFn(this.baseUrl + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page): reported below as a server error.
    }
    if (!res.ok) {
      const error = (parsed as { error?: ErrorBody } | null)?.error
        ?? { message: `HTTP ${res.status}: ${text.slice(0, 200)}`, type: "server_error", param: null, code: null };
      throw new ApiError(res.status, error);
    }
    return parsed as T;
  }

  /** The tenant's threads, most recent activity first. */
  listThreads(q?: ListQuery): Promise<List<Thread>> {
    return this.request("GET", `/v1/threads${queryString(q)}`);
  }

  /** Creates a thread (201). */
  createThread(body: ThreadCreate = {}): Promise<Thread> {
    return this.request("POST", "/v1/threads", body);
  }

  /** One thread. */
  retrieveThread(id: string): Promise<Thread> {
    return this.request("GET", path(id));
  }

  /** Updates a thread's model, instructions, metadata, params or expiry. */
  updateThread(id: string, body: ThreadUpdate): Promise<Thread> {
    return this.request("POST", path(id), body);
  }

  /** Deletes a thread and its storage. */
  deleteThread(id: string): Promise<{ id: string; object: "thread.deleted"; deleted: true }> {
    return this.request("DELETE", path(id));
  }

  /** One page of a thread's messages (oldest first unless `order: "desc"`). */
  listMessages(id: string, q?: ListQuery): Promise<List<Message>> {
    return this.request("GET", `${path(id)}/messages${queryString(q)}`);
  }

  /** Runs a turn and waits for it (not streamed): the finished turn and its reply. */
  createTurn(id: string, body: Omit<TurnCreate, "stream">): Promise<TurnResult> {
    return this.request("POST", `${path(id)}/turns`, { ...body, stream: false });
  }

  /** A turn's state. */
  retrieveTurn(id: string, turnId: string): Promise<Turn> {
    return this.request("GET", `${path(id)}/turns/${encodeURIComponent(turnId)}`);
  }

  /** Stops a turn; the partial reply is kept as `incomplete`. */
  cancelTurn(id: string, turnId: string): Promise<Turn> {
    return this.request("POST", `${path(id)}/turns/${encodeURIComponent(turnId)}/cancel`);
  }

  /** A single-use WebSocket ticket for the thread (what browsers use instead of the header). */
  createTicket(id: string): Promise<WsTicket> {
    return this.request("POST", `${path(id)}/ws-tickets`);
  }
}
