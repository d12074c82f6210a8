/**
 * The built-in dev/echo model: a deterministic stand-in for chat completions,
 * reached through the same openai SDK code path as a real upstream, so every
 * endpoint can be tried offline. Local development only (see client.ts).
 */
import { DEV_EMBEDDING_DIMENSIONS, DEV_MODEL } from "./models.ts";
import { estimateTokens } from "./tokens.ts";

interface ChatRequest {
  messages: { role: string; content: unknown }[];
  stream?: boolean;
  max_tokens?: number;
  stream_options?: { include_usage?: boolean };
}

/** The reply dev/echo gives: it repeats the last user message and says how much history it was sent. */
export function devEchoReply(messages: ChatRequest["messages"]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const said = typeof lastUser?.content === "string" ? lastUser.content : JSON.stringify(lastUser?.content ?? "");
  const turns = messages.filter((m) => m.role === "user").length;
  return `You said: ${said} (dev/echo: user message ${turns} of ${messages.length} messages in context)`;
}

/** A fetch that answers POST …/chat/completions (JSON or SSE) and …/embeddings in OpenAI's wire format. */
export const devEchoFetch: typeof fetch = async (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (url.endsWith("/embeddings")) return devEmbeddings(JSON.parse(String(init?.body ?? "{}")) as EmbeddingRequest);
  if (!url.endsWith("/chat/completions")) {
    return Response.json({ error: { message: `dev/echo does not serve ${new URL(url).pathname}`, type: "invalid_request_error" } }, { status: 404 });
  }
  const body = JSON.parse(String(init?.body ?? "{}")) as ChatRequest;
  let text = devEchoReply(body.messages ?? []);
  const words = text.split(/(?<= )/);
  let finish: "stop" | "length" = "stop";
  if (body.max_tokens !== undefined && words.length > body.max_tokens) {
    text = words.slice(0, body.max_tokens).join("");
    finish = "length";
  }
  const usage = {
    prompt_tokens: (body.messages ?? []).reduce((n, m) => n + estimateTokens(String(m.content ?? "")), 0),
    completion_tokens: Math.min(words.length, body.max_tokens ?? Infinity),
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = `chatcmpl-dev${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  if (!body.stream) {
    return Response.json({
      id, object: "chat.completion", created, model: DEV_MODEL,
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: finish, logprobs: null }],
      usage,
    });
  }
  const enc = new TextEncoder();
  const chunk = (delta: object, finish_reason: string | null, extra: object = {}) =>
    enc.encode(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: DEV_MODEL,
      choices: [{ index: 0, delta, finish_reason, logprobs: null }], ...extra })}\n\n`);
  const parts = text.split(/(?<= )/);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(chunk({ role: "assistant", content: "" }, null));
      for (const p of parts) c.enqueue(chunk({ content: p }, null));
      c.enqueue(chunk({}, finish));
      if (body.stream_options?.include_usage) {
        c.enqueue(enc.encode(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: DEV_MODEL, choices: [], usage })}\n\n`));
      }
      c.enqueue(enc.encode("data: [DONE]\n\n"));
      c.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream" } });
};

interface EmbeddingRequest {
  input?: unknown;
  dimensions?: number;
  encoding_format?: "float" | "base64";
}

/**
 * dev/echo's embedding of one input: character trigrams hashed into a small
 * unit vector, so equal texts get equal vectors and texts sharing words get
 * close ones. Deterministic; not a language model.
 */
export function devEmbedding(text: string, dimensions = DEV_EMBEDDING_DIMENSIONS): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const padded = ` ${text.toLowerCase()} `;
  for (let i = 0; i + 3 <= padded.length; i++) {
    const h = fnv1a(padded.slice(i, i + 3));
    v[h % dimensions]! += h & 0x8000_0000 ? -1 : 1;
  }
  const norm = Math.hypot(...v);
  return norm === 0 ? v.map((_, i) => (i === 0 ? 1 : 0)) : v.map((x) => x / norm);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Answers POST …/embeddings: one vector per input, as floats or (encoding_format "base64") little-endian float32. */
function devEmbeddings(body: EmbeddingRequest): Response {
  const inputs: unknown[] = Array.isArray(body.input) && body.input.some((x) => typeof x !== "number") ? body.input : [body.input];
  const dims = Number.isInteger(body.dimensions) && body.dimensions! > 0 && body.dimensions! <= 4096 ? body.dimensions! : DEV_EMBEDDING_DIMENSIONS;
  const texts = inputs.map((x) => (typeof x === "string" ? x : JSON.stringify(x ?? "")));
  const tokens = texts.reduce((n, t) => n + estimateTokens(t), 0);
  return Response.json({
    object: "list",
    model: DEV_MODEL,
    data: texts.map((t, index) => {
      const vector = devEmbedding(t, dims);
      return { object: "embedding", index, embedding: body.encoding_format === "base64" ? float32Base64(vector) : vector };
    }),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function float32Base64(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
