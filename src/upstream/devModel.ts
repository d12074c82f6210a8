/**
 * The built-in dev/echo model: a deterministic stand-in for chat completions,
 * reached through the same openai SDK code path as a real upstream, so every
 * endpoint can be tried offline. Local development only (see client.ts).
 */
import { DEV_MODEL } from "./models.ts";
import { estimateTokens } from "../thread/tokens.ts";

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

/** A fetch that answers POST …/chat/completions in OpenAI's wire format, JSON or SSE. */
export const devEchoFetch: typeof fetch = async (input, init) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
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
