/**
 * The mock upstream: the only fake in the tests. It speaks the real wire formats
 * of an OpenAI-compatible server (chat.completion JSON, chat.completion.chunk SSE
 * ending `data: [DONE]`, Cloudflare's and OpenAI's error envelopes) and injects
 * faults on demand. Written against web-standard Request/Response, so workerd
 * tests call it through a fetch spy and Node tests serve it over HTTP.
 *
 * What it answers a chat request with (test/mock/directives.ts), first match wins.
 * Directives are written in the LAST USER message's text:
 * - `[[call NAME {json}]]` (one or several: parallel calls), when the request has
 *   `tools` (and `tool_choice` is not "none") and the last message is the user's:
 *   tool calls `call_mockN_I` with exactly those arguments (`{}` if omitted);
 *   non-streamed as `choices[0].message.tool_calls` (content null) with
 *   `finish_reason: "tool_calls"`; streamed as OpenAI and Workers AI do: per call
 *   a header chunk `{index, id, type:"function", function:{name, arguments:""}}`,
 *   then `{index, function:{arguments}}` fragments of at most 8 characters.
 * - `response_format` json_object / json_schema: the JSON text given by
 *   `[[json {...}]]` verbatim; else for json_schema a value of the schema's shape
 *   (strings "mock", numbers 1, …) and for json_object the plain echo below (as
 *   before JSON mode existed); `[[json-invalid]]` answers a truncated,
 *   unparseable JSON text instead.
 * - The prompt ends with `role:"tool"` messages: `tool results: NAME(CALL_ID)=CONTENT; …`
 *   (names from the assistant message's tool_calls), proof the results arrived.
 * - Otherwise the echo (`echo(N): last user text`, text parts joined); when the
 *   user messages carry `image_url` parts, ` [K image(s): URL_PREFIX (detail) | …]`
 *   is appended, each URL cut to its first 32 characters.
 * - `[[reasoning TEXT]]` adds TEXT as `reasoning_content` (streamed as deltas
 *   before the content, or on the non-streamed message).
 * The `length` fault cuts the reply as max_tokens would: half the text's words, or
 * each tool call's arguments cut in half, with `finish_reason: "length"`.
 * Streamed faults (`cut`, `stall`) count the deltas after the first, tool
 * argument fragments included, so a stream can be cut mid-arguments.
 */
import { answerFor, argumentFragments, textOf } from "./directives.ts";

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
  return `echo(${msgs.length}): ${textOf(last?.content)}`;
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
    const id = `chatcmpl-mock${this.requests.length}`;
    const answer = answerFor(body, `mock${this.requests.length}`, this.reply);
    let text = fault?.kind === "empty" ? "" : (answer.content ?? "");
    let calls = answer.toolCalls;
    let finish = calls.length > 0 ? "tool_calls" : "stop";
    // A reply cut by max_tokens while it wrote a call's arguments: each call keeps half of them (unparseable).
    if (fault?.kind === "length") calls = calls.map((c) => ({ ...c, arguments: c.arguments.slice(0, Math.floor(c.arguments.length / 2)) }));
    const words = text.split(/(?<= )/).filter((w) => w !== "");
    if (fault?.kind === "length" || (body.max_tokens && words.length > body.max_tokens)) {
      const keep = fault?.kind === "length" ? Math.max(1, Math.floor(words.length / 2)) : body.max_tokens;
      words.splice(keep);
      text = words.join("");
      finish = "length";
    }
    const promptTokens = body.messages.reduce((n: number, m: any) => n + Math.ceil((typeof m.content === "string" || m.content == null ? String(m.content ?? "") : JSON.stringify(m.content)).length / 4) + 3, 0);
    const fragments = calls.map((c) => argumentFragments(c.arguments));
    const completionTokens = words.length + fragments.reduce((n, f) => n + f.length, 0) + (answer.reasoning ? answer.reasoning.split(" ").length : 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? "mock-model";
    if (!body.stream) {
      const message: Record<string, unknown> = { role: "assistant", content: calls.length > 0 ? null : text, refusal: null };
      if (calls.length > 0) message.tool_calls = calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
      if (answer.reasoning) message.reasoning_content = answer.reasoning;
      return json({ id, object: "chat.completion", created, model, choices: [{ index: 0, message, finish_reason: finish, logprobs: null }], usage });
    }
    const frame = (choices: unknown[], extra: object = {}) =>
      enc.encode(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })}\n\n`);
    const delta = (d: object) => frame([{ index: 0, delta: d, finish_reason: null, logprobs: null }]);
    // The deltas after the first, in order: reasoning words, then either text words or, for
    // each tool call, a header (index, id, type, name, empty arguments) and its argument fragments.
    const pieces: Uint8Array[] = [];
    if (answer.reasoning) for (const w of answer.reasoning.split(/(?<= )/)) pieces.push(delta({ reasoning_content: w }));
    if (calls.length === 0) for (const w of words) pieces.push(delta({ content: w }));
    calls.forEach((c, index) => {
      pieces.push(delta({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
      for (const f of fragments[index]!) pieces.push(delta({ tool_calls: [{ index, function: { arguments: f } }] }));
    });
    const delay = this.chunkDelayMs;
    // Frames go out one per pull, so everything before a fault really reaches the client
    // (erroring a stream would otherwise discard chunks still queued).
    type Step = Uint8Array | "error" | "close" | "stall";
    const steps: Step[] = [delta({ role: "assistant", content: calls.length > 0 ? null : "" })];
    let ended = false;
    pieces.forEach((piece, sent) => {
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
        steps.push(piece);
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
