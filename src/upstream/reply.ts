/** Reading one streamed chat completion from the upstream: the loop turns and store:false responses share. */
import type OpenAI from "openai";
import { fitsUtf8, randomBase36 } from "../encoding.ts";
import type { ToolCall } from "../protocol/types.ts";
import { UpstreamError } from "../errors.ts";

type StreamingRequest = OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;

/** A tool call as it arrives: the arguments grow fragment by fragment. */
export interface CallProgress {
  id: string;
  name: string;
  arguments: string;
}

/** What has arrived so far; the caller keeps it when reading fails, so a partial reply is not lost. */
export interface ReplyProgress {
  text: string;
  finish: string | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  /** Tool calls by index; only a reply that ended normally may store them (a cut one has half arguments). */
  calls: CallProgress[];
  /** Reasoning text the upstream sent (`reasoning_content`, Workers AI's and vLLM's name; `reasoning` too). */
  reasoning: string;
}

/** A streamed argument fragment of tool call `index`. */
export interface ToolDelta {
  index: number;
  call_id: string;
  name: string;
  delta: string;
}

export interface ReplyOptions {
  /** Aborting it (a cancel) stops the reading quietly; the caller checks it. */
  signal?: AbortSignal;
  /** A stream that sends nothing for this long fails with upstream_timeout. */
  idleMs: number;
  /** Past this many bytes of UTF-8 the reading stops as if cut by max_tokens: a reply must fit one row. */
  maxBytes: number;
  onDelta(delta: string): void;
  onToolDelta?(d: ToolDelta): void;
  onReasoning?(delta: string): void;
}

export function newProgress(): ReplyProgress {
  return { text: "", finish: null, usage: null, calls: [], reasoning: "" };
}

type ChunkDelta = OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null; reasoning?: string | null };

/** Adds one chunk's delta to `p`, announcing text, reasoning and argument fragments. */
function absorb(p: ReplyProgress, d: ChunkDelta | undefined, opts: ReplyOptions): void {
  if (!d) return;
  const reasoning = d.reasoning_content ?? d.reasoning;
  if (reasoning) {
    p.reasoning += reasoning;
    opts.onReasoning?.(reasoning);
  }
  if (d.content) {
    p.text += d.content;
    opts.onDelta(d.content);
  }
  for (const c of d.tool_calls ?? []) {
    const call = (p.calls[c.index] ??= { id: "", name: "", arguments: "" });
    if (c.id) call.id = c.id;
    if (c.function?.name) call.name = c.function.name;
    const frag = c.function?.arguments ?? "";
    call.arguments += frag;
    if (frag) opts.onToolDelta?.({ index: c.index, call_id: call.id, name: call.name, delta: frag });
  }
}

/**
 * Reads a reply without streaming (Workers AI's JSON mode does not stream) and
 * announces it through the same callbacks as a stream would: one delta each.
 */
async function readWhole(client: OpenAI, request: Omit<StreamingRequest, "stream" | "stream_options">, p: ReplyProgress, opts: ReplyOptions): Promise<void> {
  const res = await client.chat.completions.create({ ...request, stream: false }, { signal: opts.signal, timeout: opts.idleMs });
  if (opts.signal?.aborted) return;
  const choice = res.choices[0];
  const m = choice?.message as (OpenAI.Chat.Completions.ChatCompletionMessage & { reasoning_content?: string | null }) | undefined;
  absorb(p, {
    content: m?.content ?? null, reasoning_content: m?.reasoning_content ?? null,
    tool_calls: m?.tool_calls?.flatMap((c, index) => c.type === "function" ? [{ index, id: c.id, type: "function" as const, function: c.function }] : []),
  }, opts);
  p.finish = choice?.finish_reason ?? null;
  if (res.usage) p.usage = { input_tokens: res.usage.prompt_tokens, output_tokens: res.usage.completion_tokens };
  if (p.text === "" && p.calls.length === 0) throw new UpstreamError("The upstream model sent an empty reply.", "upstream_empty_reply");
}

/**
 * Streams a reply into `p`. Throws upstream_timeout for a stalled stream and
 * upstream_empty_reply for an empty one; any other failure is thrown as it came
 * (see mapUpstreamError). Returns quietly when `signal` was aborted.
 */
async function readReply(client: OpenAI, request: StreamingRequest, p: ReplyProgress, opts: ReplyOptions): Promise<void> {
  // The SDK's own timeout covers only the wait for response headers; a stream
  // that stalls afterwards is caught by this idle watchdog. Each chunk only
  // notes the time; the one timer, when it fires, sleeps again for what is left
  // of the idle window (a reply of N chunks costs a few timers, not N).
  const abort = new AbortController();
  const cancel = () => abort.abort();
  opts.signal?.addEventListener("abort", cancel);
  let stalled = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let lastChunkAt = Date.now();
  const arm = (ms: number) => {
    watchdog = setTimeout(() => {
      const idle = Date.now() - lastChunkAt;
      if (idle < opts.idleMs) return arm(opts.idleMs - idle);
      stalled = true;
      abort.abort();
    }, ms);
  };
  const stalledError = () => new UpstreamError("The upstream model stopped sending in the middle of its reply.", "upstream_timeout");
  try {
    const stream = await client.chat.completions.create(request, { signal: abort.signal });
    lastChunkAt = Date.now();
    arm(opts.idleMs);
    for await (const chunk of stream) {
      lastChunkAt = Date.now();
      const choice = chunk.choices[0];
      absorb(p, choice?.delta, opts);
      if (choice?.finish_reason) p.finish = choice.finish_reason;
      if (chunk.usage) p.usage = { input_tokens: chunk.usage.prompt_tokens, output_tokens: chunk.usage.completion_tokens };
      if (!fitsUtf8(p.text, opts.maxBytes) || !fitsUtf8(p.reasoning, opts.maxBytes)) {
        p.finish = "length";
        break;
      }
    }
  } catch (err) {
    if (stalled) throw stalledError();
    if (opts.signal?.aborted) return;
    throw err;
  } finally {
    clearTimeout(watchdog);
    opts.signal?.removeEventListener("abort", cancel);
  }
  // The SDK ends a stream quietly when its signal aborts, so the reason is checked here.
  if (stalled) throw stalledError();
  if (opts.signal?.aborted) return;
  if (p.text === "" && p.calls.length === 0) throw new UpstreamError("The upstream model sent an empty reply.", "upstream_empty_reply");
}

/**
 * Reads a reply, whole for a JSON format (Workers AI's JSON mode does not
 * stream) or streamed otherwise, and answers the tool calls it may keep (none
 * once the signal aborted). A JSON reply that calls no tools must parse: the
 * format applies to the answer that follows the results.
 */
export async function readAnswer(client: OpenAI, request: Omit<StreamingRequest, "stream" | "stream_options">, p: ReplyProgress,
  opts: ReplyOptions, how: { json: boolean; maxToolCalls?: number }): Promise<ToolCall[]> {
  if (how.json) await readWhole(client, request, p, opts);
  else await readReply(client, { ...request, stream: true, stream_options: { include_usage: true } }, p, opts);
  if (opts.signal?.aborted) return [];
  const calls = finishedCalls(p, how.maxToolCalls);
  if (how.json && calls.length === 0) assertJsonReply(p.text);
  return calls;
}

/** True when the reply was cut (by max_tokens or the size cap), or made calls that were all dropped: it is incomplete. */
export function wasCut(p: ReplyProgress, kept: ToolCall[]): boolean {
  return p.finish === "length" || (kept.length === 0 && p.calls.some((c) => c?.name));
}

/** True when the chat response_format is a JSON one (read whole: Workers AI's JSON mode does not stream). */
export function isJsonFormat(sampling: Record<string, unknown>): boolean {
  const t = (sampling.response_format as { type?: string } | undefined)?.type;
  return t === "json_object" || t === "json_schema";
}

/** A JSON format's reply must be JSON: otherwise the reply fails (the request was valid; the reply was not). */
function assertJsonReply(text: string): void {
  if (!parses(text)) {
    throw new UpstreamError("The model's reply is not valid JSON, which the requested JSON response format requires; it was not kept as a reply.", "invalid_json_output");
  }
}

/** True when `text` parses as JSON. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The tool calls a reply may keep, at most `max`, each with an ID (an upstream that gives none gets one):
 * none unless the reply ended normally (finish `tool_calls` or `stop`) and every call's arguments parse,
 * so a reply cut by max_tokens, the size cap or a closed stream never leaves a half call to answer.
 */
function finishedCalls(p: ReplyProgress, max = Infinity): ToolCall[] {
  if (p.finish !== "tool_calls" && p.finish !== "stop") return [];
  const calls = p.calls.filter((c) => c && c.name);
  if (!calls.every((c) => parses(c.arguments || "{}"))) return [];
  return calls.slice(0, max).map((c, i) => ({ id: c.id || `call_${randomBase36(12)}${i}`, type: "function" as const,
    function: { name: c.name, arguments: c.arguments || "{}" } }));
}
