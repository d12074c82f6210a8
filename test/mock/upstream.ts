/**
 * The mock upstream: the only fake in the tests. It speaks the real wire formats
 * of an OpenAI-compatible server (chat.completion JSON, chat.completion.chunk SSE
 * ending `data: [DONE]`, Cloudflare's and OpenAI's error envelopes) and injects
 * faults on demand. Written against web-standard Request/Response, so workerd
 * tests call it through a fetch spy and Node tests serve it over HTTP.
 */

export type Fault =
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: "cloudflare"; status: number; code: number; message: string; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "stall"; afterChunks: number }
  | { kind: "cut"; afterChunks: number }
  | { kind: "malformed" }
  | { kind: "empty" }
  | { kind: "length" };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
}

export interface MockOptions {
  /** Delay between streamed chunks, in ms (0: send at once). */
  chunkDelayMs?: number;
  /** The reply text for a chat request; by default it echoes the last user message. */
  reply?: (body: any) => string;
}

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The default reply: quotes the last user message and counts the messages it was sent. */
export function echoReply(body: any): string {
  const msgs: any[] = body.messages ?? [];
  const last = [...msgs].reverse().find((m) => m.role === "user");
  return `echo(${msgs.length}): ${typeof last?.content === "string" ? last.content : ""}`;
}

export class MockUpstream {
  readonly requests: RecordedRequest[] = [];
  /** How many streamed replies the client stopped reading before their end (an abort reached us). */
  streamsCancelled = 0;
  private readonly faults: Fault[] = [];
  chunkDelayMs: number;
  reply: (body: any) => string;

  constructor(opts: MockOptions = {}) {
    this.chunkDelayMs = opts.chunkDelayMs ?? 0;
    this.reply = opts.reply ?? echoReply;
  }

  /** Queues faults: each answers one upcoming request, in order. */
  fail(...faults: Fault[]): this {
    this.faults.push(...faults);
    return this;
  }

  /** The chat requests received so far. */
  chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith("/chat/completions"));
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.streamsCancelled = 0;
  }

  /** Answers one request the way an OpenAI-compatible server would. */
  handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const text = req.method === "GET" ? "" : await req.text();
    let body: any = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      return json({ error: { message: "invalid JSON", type: "invalid_request_error" } }, 400);
    }
    this.requests.push({ method: req.method, path: url.pathname, headers: Object.fromEntries(req.headers), body });
    const fault = this.faults.shift();

    if (fault?.kind === "status") return json(fault.body ?? { error: { message: `injected ${fault.status}`, type: "server_error" } }, fault.status, fault.headers);
    if (fault?.kind === "cloudflare") {
      return json({ success: false, errors: [{ code: fault.code, message: fault.message }], messages: [], result: null }, fault.status, fault.headers);
    }
    if (fault?.kind === "hang") {
      // Never answers: no status, no headers; only the caller's abort ends the wait.
      return new Promise<Response>((_, reject) => {
        req.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    }

    if (url.pathname.endsWith("/chat/completions")) return this.chat(body, fault);
    if (url.pathname.endsWith("/embeddings")) return this.embeddings(body);
    if (url.pathname.endsWith("/models")) return json({ object: "list", data: [{ id: "mock-model", object: "model", created: 0, owned_by: "mock" }] });
    return json({ success: false, errors: [{ code: 7003, message: `No route for ${url.pathname}` }] }, 404);
  };

  private chat(body: any, fault: Fault | undefined): Response {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return json({ error: { message: "messages is required", type: "invalid_request_error", param: "messages" } }, 400);
    }
    let text = fault?.kind === "empty" ? "" : this.reply(body);
    let finish = "stop";
    const words = text.split(/(?<= )/).filter((w) => w !== "");
    if (fault?.kind === "length" || (body.max_tokens && words.length > body.max_tokens)) {
      const keep = fault?.kind === "length" ? Math.max(1, Math.floor(words.length / 2)) : body.max_tokens;
      words.splice(keep);
      text = words.join("");
      finish = "length";
    }
    const promptTokens = body.messages.reduce((n: number, m: any) => n + Math.ceil(String(m.content ?? "").length / 4) + 3, 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: words.length, total_tokens: promptTokens + words.length };
    const id = `chatcmpl-mock${this.requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? "mock-model";
    if (!body.stream) {
      return json({
        id, object: "chat.completion", created, model,
        choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: finish, logprobs: null }],
        usage,
      });
    }
    const frame = (choices: unknown[], extra: object = {}) =>
      enc.encode(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })}\n\n`);
    const delay = this.chunkDelayMs;
    // Frames go out one per pull, so everything before a fault really reaches the client
    // (erroring a stream would otherwise discard chunks still queued).
    type Step = Uint8Array | "error" | "close" | "stall";
    const steps: Step[] = [frame([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }])];
    let ended = false;
    words.forEach((w, sent) => {
      if (ended) return;
      if (fault?.kind === "cut" && sent === fault.afterChunks) {
        steps.push("error");
        ended = true;
      } else if (fault?.kind === "stall" && sent === fault.afterChunks) {
        steps.push("stall");
        ended = true;
      } else if (fault?.kind === "malformed" && sent === 1) {
        steps.push(enc.encode('data: {"id": "broken", "choices": [\n\n'), "close");
        ended = true;
      } else {
        steps.push(frame([{ index: 0, delta: { content: w }, finish_reason: null, logprobs: null }]));
      }
    });
    if (!ended) {
      steps.push(frame([{ index: 0, delta: {}, finish_reason: finish, logprobs: null }]));
      if (body.stream_options?.include_usage) steps.push(frame([], { usage }));
      steps.push(enc.encode("data: [DONE]\n\n"), "close");
    }
    let i = 0;
    const onCancel = () => {
      this.streamsCancelled++;
    };
    const stream = new ReadableStream<Uint8Array>({
      cancel: onCancel,
      async pull(c) {
        const step = steps[i++];
        if (delay && i > 1) await sleep(delay);
        if (step === "stall") return new Promise<void>(() => {}); // sends nothing more, ever
        if (step === "error" || step === undefined) c.error(new Error("connection reset by mock upstream"));
        else if (step === "close") c.close();
        else c.enqueue(step);
      },
    }, { highWaterMark: 0 });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  }

  private embeddings(body: any): Response {
    const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
    return json({
      object: "list",
      model: body.model,
      data: inputs.map((s, index) => ({ object: "embedding", index, embedding: [s.length / 100, 0.5, -0.25] })),
      usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
    });
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
