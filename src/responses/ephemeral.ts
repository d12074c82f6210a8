/** Responses with store:false: generated straight from the upstream, nothing written anywhere. */
import type OpenAI from "openai";
import { randomBase36 } from "../encoding.ts";
import type { OutputItem, ResponseObject, ResponseRequest } from "../protocol/openai.ts";
import type { ToolCall } from "../protocol/types.ts";
import type { Upstream } from "../upstream/client.ts";
import { mapUpstreamError } from "../upstream/errors.ts";
import { isJsonFormat, newProgress, readAnswer, wasCut, type ReplyOptions } from "../upstream/reply.ts";
import { ResponseEventWriter } from "./events.ts";
import { itemId } from "./ids.ts";
import { outputOf } from "./items.ts";
import { responseObject } from "./shape.ts";

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

export interface EphemeralRequest {
  upstream: Upstream;
  /** How long the upstream's stream may stay silent (UPSTREAM_TIMEOUT_MS). */
  idleMs: number;
  /** The longest reply kept (the configured contentBytes). */
  maxBytes: number;
  messages: ChatMessage[];
  model: string;
  maxTokens: number;
  /** Sampling, tools, response_format and reasoning_effort, as sent upstream. */
  sampling: Record<string, unknown>;
  request: ResponseRequest;
}

/** Where an ephemeral response's IDs point: a thread name no object has, so a lookup is a 404 (or a 400 as a reference). */
const NOWHERE = "ephemeral";

function ephemeralId(): string {
  return `resp_${randomBase36(16)}_ZXBoZW1lcmFs`;
}

/** Runs the generation, announcing fragments to `w`; returns the finished Response object (failed ones included). */
async function generate(r: EphemeralRequest, w: ResponseEventWriter | null, onStart: (id: string) => void, replyId: string) {
  const id = ephemeralId();
  const created_at = Math.floor(Date.now() / 1000);
  onStart(id);
  const p = newProgress();
  let error = null;
  const max = r.request.max_tool_calls ?? Infinity;
  const reading: ReplyOptions = { idleMs: r.idleMs, maxBytes: r.maxBytes, onDelta: (d) => w?.delta(d),
    onToolDelta: (d) => d.index < max && w?.toolDelta(d.index, d.call_id, d.name, d.delta), onReasoning: (d) => w?.reasoning(d) };
  const request = { ...r.sampling, model: r.model, messages: r.messages, max_tokens: r.maxTokens } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
  let calls: ToolCall[] = [];
  try {
    calls = await readAnswer(r.upstream.client, request, p, reading, { json: isJsonFormat(r.sampling), maxToolCalls: max });
  } catch (err) {
    error = mapUpstreamError(err);
  }
  const { text, usage } = p;
  const status = error ? "failed" : wasCut(p, calls) ? "incomplete" : "completed";
  const output: OutputItem[] = text === "" && calls.length === 0 ? [] : outputOf(NOWHERE, {
    id: replyId, object: "thread.message", thread_id: NOWHERE, seq: 0, role: "assistant", content: text,
    status: status === "completed" ? "completed" : "incomplete", turn_id: null, created_at, metadata: {}, usage: null,
    ...(calls.length ? { tool_calls: calls } : {}),
  }, p.reasoning);
  const response = responseObject(id, {
    status, model: r.model, usage, created_at,
    error: error ? { message: error.message, type: error.type, param: error.param, code: error.code } : null,
  }, r.request, output);
  return { response, error };
}

/** A store:false response as JSON: the finished object, or the mapped error thrown. */
export async function ephemeralResponse(r: EphemeralRequest): Promise<ResponseObject> {
  const { response, error } = await generate(r, null, () => {}, `msg_${randomBase36(16)}`);
  if (error) throw error;
  return response;
}

/** A store:false response as a Responses event stream. */
export function ephemeralStream(r: EphemeralRequest): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const replyId = `msg_${randomBase36(16)}`;
  const events = new ResponseEventWriter((b) => void writer.write(b).catch(() => {}), (kind, i) => itemId(kind, NOWHERE, replyId, i));
  void generate(r, events, (id) => {
    events.created(responseObject(id, { status: "in_progress", model: r.model, usage: null, error: null,
      created_at: Math.floor(Date.now() / 1000) }, r.request, []));
  }, replyId).then(({ response }) => {
    events.finished(response);
    return writer.close();
  }).catch(() => writer.abort().catch(() => {}));
  return readable;
}
