/** Reading one streamed chat completion from the upstream: the loop turns and store:false responses share. */
import type OpenAI from "openai";
import { fitsUtf8 } from "../encoding.ts";
import { UpstreamError } from "../errors.ts";

type StreamingRequest = OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;

/** What has arrived so far; the caller keeps it when reading fails, so a partial reply is not lost. */
export interface ReplyProgress {
  text: string;
  finish: string | null;
  usage: { input_tokens: number; output_tokens: number } | null;
}

export interface ReplyOptions {
  /** Aborting it (a cancel) stops the reading quietly; the caller checks it. */
  signal?: AbortSignal;
  /** A stream that sends nothing for this long fails with upstream_timeout. */
  idleMs: number;
  /** Past this many bytes of UTF-8 the reading stops as if cut by max_tokens: a reply must fit one row. */
  maxBytes: number;
  onDelta(delta: string): void;
}

export function newProgress(): ReplyProgress {
  return { text: "", finish: null, usage: null };
}

/**
 * Streams a reply into `p`. Throws upstream_timeout for a stalled stream and
 * upstream_empty_reply for an empty one; any other failure is thrown as it came
 * (see mapUpstreamError). Returns quietly when `signal` was aborted.
 */
export async function readReply(client: OpenAI, request: StreamingRequest, p: ReplyProgress, opts: ReplyOptions): Promise<void> {
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
      const delta = choice?.delta?.content;
      if (delta) {
        p.text += delta;
        opts.onDelta(delta);
      }
      if (choice?.finish_reason) p.finish = choice.finish_reason;
      if (chunk.usage) p.usage = { input_tokens: chunk.usage.prompt_tokens, output_tokens: chunk.usage.completion_tokens };
      if (!fitsUtf8(p.text, opts.maxBytes)) {
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
  if (p.text === "") throw new UpstreamError("The upstream model sent an empty reply.", "upstream_empty_reply");
}
