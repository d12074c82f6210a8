/**
 * What the mock upstream answers beyond a plain echo, decided from the chat
 * request itself (see the directive table in upstream.ts's header comment):
 * tool calls asked for by `[[call NAME {json}]]`, a text that quotes the tool
 * results it was sent, JSON for `response_format`, the image parts it saw and
 * reasoning text. Pure functions of the request body, so every test can predict
 * the answer from what it sent.
 */

export interface MockToolCall {
  id: string;
  name: string;
  /** The arguments exactly as the directive wrote them (a JSON text). */
  arguments: string;
}

/** What one chat request is answered with. */
export interface MockAnswer {
  /** The assistant's text (null when it only calls tools). */
  content: string | null;
  toolCalls: MockToolCall[];
  /** Reasoning text to send as `reasoning_content` before the content, if asked for. */
  reasoning: string | null;
}

const CALL = /\[\[call ([A-Za-z0-9_.-]+)(?: (\{.*?\}))?\]\]/g;
const REASONING = /\[\[reasoning ([^\]]*)\]\]/;
const JSON_REPLY = /\[\[json (\{.*?\})\]\]/;
const JSON_INVALID = "[[json-invalid]]";
/** An image URL is quoted by its first this many characters (data URLs are long). */
export const IMAGE_URL_PREFIX = 32;

/** The text of a message's content: a string, or its `text` parts joined. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p: any) => (p?.type === "text" && typeof p.text === "string" ? p.text : "")).join("");
}

/** The `image_url` parts of a message's content, as `[url, detail]`. */
function imagesOf(content: unknown): Array<{ url: string; detail: string | undefined }> {
  if (!Array.isArray(content)) return [];
  return content
    .filter((p: any) => p?.type === "image_url")
    .map((p: any) => ({ url: String(p.image_url?.url ?? ""), detail: p.image_url?.detail }));
}

/**
 * The tool results at the end of the prompt (the `role:"tool"` messages after
 * the last assistant message), each named by the call it answers, as
 * `tool results: get_weather(call_x)=sunny; …`.
 */
function toolResultsText(msgs: any[]): string | null {
  const results: string[] = [];
  let i = msgs.length - 1;
  while (i >= 0 && msgs[i].role === "tool") i--;
  if (i === msgs.length - 1) return null;
  const calls: any[] = msgs[i]?.role === "assistant" && Array.isArray(msgs[i].tool_calls) ? msgs[i].tool_calls : [];
  for (const m of msgs.slice(i + 1)) {
    const name = calls.find((c) => c.id === m.tool_call_id)?.function?.name ?? "?";
    results.push(`${name}(${m.tool_call_id})=${textOf(m.content)}`);
  }
  return `tool results: ${results.join("; ")}`;
}

/** A value that fits a JSON Schema's type (required properties filled in), for json_schema answers without a [[json]] directive. */
export function sampleFor(schema: any): unknown {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if (schema?.enum) return schema.enum[0];
  if (type === "object" || schema?.properties) {
    const out: Record<string, unknown> = {};
    for (const [key, sub] of Object.entries(schema.properties ?? {})) out[key] = sampleFor(sub);
    return out;
  }
  if (type === "array") return [];
  if (type === "number" || type === "integer") return 1;
  if (type === "boolean") return true;
  if (type === "null") return null;
  return "mock";
}

/** Decides the answer to one chat request; `id` makes tool call IDs unique per request. */
export function answerFor(body: any, id: string, echo: (body: any) => string): MockAnswer {
  const msgs: any[] = body.messages ?? [];
  const last = msgs[msgs.length - 1];
  const lastUser = [...msgs].reverse().find((m) => m.role === "user");
  const said = textOf(lastUser?.content);
  const reasoning = last?.role === "user" ? (REASONING.exec(said)?.[1] ?? null) : null;

  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  if (tools.length > 0 && last?.role === "user" && body.tool_choice !== "none") {
    const toolCalls = [...said.matchAll(CALL)].map((m, i) => ({ id: `call_${id}_${i}`, name: m[1]!, arguments: m[2] ?? "{}" }));
    if (toolCalls.length > 0) return { content: null, toolCalls, reasoning };
  }

  const format = body.response_format?.type;
  if (format === "json_object" || format === "json_schema") {
    if (said.includes(JSON_INVALID)) return { content: '{"answer": "this is not', toolCalls: [], reasoning };
    const explicit = JSON_REPLY.exec(said)?.[1];
    if (explicit !== undefined) return { content: explicit, toolCalls: [], reasoning };
    // json_object without a directive keeps the echo (tests written before JSON mode rely on it).
    if (format === "json_schema") return { content: JSON.stringify(sampleFor(body.response_format.json_schema?.schema)), toolCalls: [], reasoning };
  }

  let content = toolResultsText(msgs) ?? echo(body);
  const images = msgs.flatMap((m) => (m.role === "user" ? imagesOf(m.content) : []));
  if (images.length > 0) {
    const list = images.map((im) => `${im.url.slice(0, IMAGE_URL_PREFIX)}${im.detail ? ` (${im.detail})` : ""}`).join(" | ");
    content += ` [${images.length} image${images.length === 1 ? "" : "s"}: ${list}]`;
  }
  return { content, toolCalls: [], reasoning };
}

/**
 * The streamed fragments of a tool call's arguments: split into pieces of at
 * most 8 characters, as OpenAI and Workers AI send them (a few tokens each).
 */
export function argumentFragments(args: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += 8) out.push(args.slice(i, i + 8));
  return out.length > 0 ? out : [""];
}
