/** Shared test helpers: call the Worker like a client, and route upstream calls to the mock. */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, vi } from "vitest";
import { MockUpstream } from "./mock/upstream.ts";

/** The API key of tenant "local" in the test configuration (vitest.config.ts). */
export const LOCAL_KEY = "sk-test-local";
export const AUTH = { Authorization: `Bearer ${LOCAL_KEY}` };

/** Where the test configuration points OPENAI_BASE_URL; no such host exists. */
export const MOCK_BASE = "http://mock-upstream.test/v1";

/** Installs a fresh mock upstream for each test: fetches to MOCK_BASE reach it, nothing else is touched. */
export function useMockUpstream(): MockUpstream {
  const mock = new MockUpstream();
  beforeEach(() => {
    mock.reset();
    mock.chunkDelayMs = 0;
    const real = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      return req.url.startsWith(MOCK_BASE) ? mock.handle(req) : real(input, init);
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return mock;
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the Worker; a body object is sent as JSON, a string as it is. */
export async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult<T>> {
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...AUTH, ...headers } };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return resultOf(await exports.default.fetch(`http://worker.test${path}`, init));
}

/** A response as the tests read it: status, headers, and the body parsed as JSON when it is JSON. */
export async function resultOf<T = any>(res: Response): Promise<ApiResult<T>> {
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A client WebSocket on a thread that records every frame it receives. */
export async function connectSocket(threadId: string, query = "") {
  const res = await exports.default.fetch(`http://worker.test/v1/threads/${threadId}/ws${query}`, { headers: { Upgrade: "websocket", ...AUTH } });
  if (res.status !== 101) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  const frames: any[] = [];
  let closed = false;
  ws.addEventListener("message", (e) => frames.push(JSON.parse(e.data as string)));
  ws.addEventListener("close", () => (closed = true));
  ws.accept();
  return {
    ws, frames,
    get closed() { return closed; },
    send: (f: unknown) => ws.send(typeof f === "string" ? f : JSON.stringify(f)),
    waitFor: (pred: (f: any) => boolean) => eventually(() => frames.find(pred)),
    types: () => frames.map((f) => f.type),
  };
}

let counter = 0;
/** A thread ID unique to this test run. */
export function uniqueId(prefix = "t"): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** Creates a thread and returns it. */
export async function createThread(body: Record<string, unknown> = {}): Promise<any> {
  const r = await api("POST", "/v1/threads", { id: uniqueId(), ...body });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Parses an SSE body into its frames. */
export function parseSse(text: string): { event: string; id: string | null; data: any }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        const i = line.indexOf(":");
        fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
      }
      return { event: fields.event ?? "message", id: fields.id ?? null, data: JSON.parse(fields.data ?? "null") };
    });
}

/** The thread's stub, for runInDurableObject and friends. */
export function threadStubFor(id: string, tenant = "local") {
  return env.THREADS.get(env.THREADS.idFromName(JSON.stringify([tenant, id])));
}

/** Asserts the OpenAI error shape and returns the error. */
export function errorOf(r: ApiResult): { message: string; type: string; param: string | null; code: string | null } {
  const e = r.body?.error;
  if (!e || typeof e.message !== "string" || typeof e.type !== "string" || !("param" in e) || !("code" in e)) {
    throw new Error(`not an OpenAI error: ${JSON.stringify(r.body)}`);
  }
  return e;
}

export interface SseFrame {
  event: string;
  id: string | null;
  data: any;
}

/** Reads SSE frames from a response body as they arrive. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffer = "";
  private readonly decoder = new TextDecoder();
  readonly frames: SseFrame[] = [];
  done = false;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** Reads until `n` frames in all have arrived or the stream ends; returns all frames so far. */
  async until(pred: (frames: SseFrame[]) => boolean, maxReads = 10_000): Promise<SseFrame[]> {
    for (let i = 0; i < maxReads && !pred(this.frames) && !this.done; i++) {
      const { value, done } = await this.reader.read();
      if (done) {
        this.done = true;
        break;
      }
      this.buffer += this.decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = this.buffer.indexOf("\n\n")) >= 0) {
        const block = this.buffer.slice(0, cut);
        this.buffer = this.buffer.slice(cut + 2);
        if (block.trim()) this.frames.push(parseSse(block + "\n\n")[0]!);
      }
    }
    return this.frames;
  }

  /** Reads to the end of the stream. */
  async all(): Promise<SseFrame[]> {
    return this.until(() => false);
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

/** POSTs to the Worker and returns the raw response (for streams). */
export function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`http://worker.test${path}`, {
    method: "POST", headers: { "content-type": "application/json", ...AUTH, ...headers }, body: JSON.stringify(body),
  });
}

/** GETs from the Worker and returns the raw response (for streams). */
export function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`http://worker.test${path}`, { headers: { ...AUTH, ...headers } });
}

/** Waits until check() is truthy, polling every 10 ms, at most `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
