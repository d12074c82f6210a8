/**
 * Message content as stored: a string as it is, a list of text and image parts
 * as its JSON (marked `parts` in the row's extra), so the parts come back
 * exactly as sent. Sizes and token estimates are of what is stored and sent.
 */
import { fitsUtf8 } from "../encoding.ts";
import { TooLargeError } from "../errors.ts";
import type { ChatContent } from "../protocol/content.ts";
import type { Limits } from "../protocol/limits.ts";
import type { MessageCreate, TurnCreate } from "../protocol/schemas.ts";
import { estimateTokens } from "../upstream/tokens.ts";
import type { MessageRow } from "./store.ts";

/**
 * Tokens counted for one image. Vision models tile an image; OpenAI counts 85
 * tokens for a "low" detail image and 85 + 170 per 512-pixel tile otherwise.
 * The Worker never opens the image (it does not fetch URLs nor decode data
 * URLs), so it cannot count tiles: it assumes four tiles (a 1024×1024 image),
 * 765 tokens, and 85 for "low". The data URL's characters are not counted as text.
 */
export const IMAGE_TOKENS = { low: 85, other: 765 } as const;

/** The stored string of a content (parts as JSON). */
export function storedContent(c: ChatContent): string {
  return typeof c === "string" ? c : JSON.stringify(c);
}

/** Estimated prompt tokens of a content: its text, plus IMAGE_TOKENS per image. */
export function contentTokens(c: ChatContent): number {
  if (typeof c === "string") return estimateTokens(c);
  let n = 0;
  for (const p of c) n += p.type === "text" ? estimateTokens(p.text) : p.image_url.detail === "low" ? IMAGE_TOKENS.low : IMAGE_TOKENS.other;
  return n;
}

/** The stored row's content as it was sent. */
export function rowContent(row: Pick<MessageRow, "content" | "extra">): ChatContent {
  if (!row.extra || !row.content.startsWith("[")) return row.content;
  const extra = JSON.parse(row.extra) as { parts?: number };
  return extra.parts ? (JSON.parse(row.content) as ChatContent) : row.content;
}

/** Refuses content over the configured contentBytes with 413: never truncated, never near the 2 MB row limit. */
export function checkContentSize(content: ChatContent, param: string, contentBytes: number): void {
  if (!fitsUtf8(storedContent(content), contentBytes)) {
    throw new TooLargeError(`${param} is larger than ${contentBytes} bytes (LIMITS.contentBytes); an image counts with its whole data URL.`, param);
  }
}

/** A turn's input as messages: a string is one user message; sizes checked (413). */
export function normalizeInput(input: TurnCreate["input"], limits: Readonly<Limits>): MessageCreate[] {
  const list: MessageCreate[] = typeof input === "string" ? [{ role: "user", content: input }] : input;
  if (list.length > limits.messagesPerInput) {
    throw new TooLargeError(`input has ${list.length} messages; the limit is ${limits.messagesPerInput} (LIMITS.messagesPerInput).`, "input");
  }
  list.forEach((m, i) => checkContentSize(m.content, typeof input === "string" ? "input" : `input[${i}].content`, limits.contentBytes));
  return list;
}

/** The row of a message stored as it was sent (a turn's input, or an appended message). */
export function sentMessageRow(m: MessageCreate, at: { seq: number; turn: number | null; created_at: number; extra: string | null; branch?: boolean }): MessageRow {
  return {
    seq: at.seq, role: m.role, content: storedContent(m.content), status: "completed", turn: at.turn, created_at: at.created_at,
    // A message's calls go upstream with it, so their JSON counts as text.
    tokens: contentTokens(m.content) + (m.tool_calls ? estimateTokens(JSON.stringify(m.tool_calls)) : 0), metadata: m.metadata && Object.keys(m.metadata).length ? JSON.stringify(m.metadata) : null,
    usage: null, extra: withParts(at.extra, m.content), branch: at.branch ? 1 : null,
  };
}

/** `extra` with the parts mark added when the content is a list. */
function withParts(extra: string | null, c: ChatContent): string | null {
  if (typeof c === "string") return extra;
  return JSON.stringify({ ...(extra ? (JSON.parse(extra) as object) : {}), parts: 1 });
}

/** The tool fields of a message as stored JSON, or null. */
export function extraOf(m: MessageCreate): string | null {
  if (m.tool_calls) return JSON.stringify({ tool_calls: m.tool_calls });
  if (m.tool_call_id) return JSON.stringify({ tool_call_id: m.tool_call_id });
  return null;
}
