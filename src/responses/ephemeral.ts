/** Responses with store:false: generated straight from the upstream, nothing written anywhere. */
import type OpenAI from "openai";
import { randomBase36 } from "../encoding.ts";
import type { ResponseObject, ResponseRequest } from "../protocol/openai.ts";
import type { Upstream } from "../upstream/client.ts";
import { mapUpstreamError } from "../upstream/errors.ts";
import { newProgress, readReply } from "../upstream/reply.ts";
import { ResponseEventWriter } from "./events.ts";
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
  sampling: { temperature?: number; top_p?: number };
  request: ResponseRequest;
}

/**
 * An ID of the usual shape whose thread part names no thread ("ephemeral"), so
 * retrieving it is a 404, as for any response that was not stored.
 */
function ephemeralId(): string {
  return `resp_${randomBase36(16)}_ZXBoZW1lcmFs`;
}

/** Runs the generation; calls onDelta per text delta; returns the finished Response object (failed ones included). */
async function generate(r: EphemeralRequest, onStart: (id: string, itemId: string) => void, onDelta: (t: string) => void) {
  const id = ephemeralId();
  const itemId = `msg_${randomBase36(16)}`;
  const created_at = Math.floor(Date.now() / 1000);
  onStart(id, itemId);
  const p = newProgress();
  let error = null;
  try {
    await readReply(r.upstream.client,
      { ...r.sampling, model: r.model, messages: r.messages, max_tokens: r.maxTokens, stream: true, stream_options: { include_usage: true } },
      p, { idleMs: r.idleMs, maxBytes: r.maxBytes, onDelta });
  } catch (err) {
    error = mapUpstreamError(err);
  }
  const { text, finish, usage } = p;
  const status = error ? "failed" : finish === "length" ? "incomplete" : "completed";
  const reply = text === "" ? null : {
    type: "message" as const, id: itemId, status: status === "completed" ? "completed" as const : "incomplete" as const,
    role: "assistant" as const, content: [{ type: "output_text" as const, text, annotations: [], logprobs: [] }],
  };
  const response = responseObject(id, {
    status, model: r.model, usage, created_at,
    error: error ? { message: error.message, type: error.type, param: error.param, code: error.code } : null,
  }, r.request, reply);
  return { response, error };
}

/** A store:false response as JSON: the finished object, or the mapped error thrown. */
export async function ephemeralResponse(r: EphemeralRequest): Promise<ResponseObject> {
  const { response, error } = await generate(r, () => {}, () => {});
  if (error) throw error;
  return response;
}

/** A store:false response as a Responses event stream. */
export function ephemeralStream(r: EphemeralRequest): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const events = new ResponseEventWriter((b) => void writer.write(b).catch(() => {}));
  void generate(
    r,
    (id, itemId) => {
      events.created(responseObject(id, { status: "in_progress", model: r.model, usage: null, error: null,
        created_at: Math.floor(Date.now() / 1000) }, r.request, null));
      events.itemAdded(itemId);
    },
    (t) => events.delta(t),
  ).then(({ response }) => {
    events.finished(response);
    return writer.close();
  }).catch(() => writer.abort().catch(() => {}));
  return readable;
}
