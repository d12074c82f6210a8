/** The context builder: which messages of a thread go upstream for a turn (DESIGN.md, storage rules). */
import type OpenAI from "openai";
import type { PromptRow, ThreadStore } from "./store.ts";
import { estimateTokens } from "./tokens.ts";

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Rows read per indexed page while walking back from the newest message. */
const PAGE = 64;

export interface PromptPlan {
  messages: ChatMessage[];
  /** Estimated prompt tokens, instructions included. */
  tokens: number;
  /** How many history messages were included. */
  included: number;
}

/**
 * Instructions plus the newest messages below `below` whose estimated tokens fit
 * `budget`, oldest first. Reads newest-first pages of PAGE rows by seq range and
 * stops at the first message that does not fit, so the work is bounded by the
 * window, not the thread's length. A tool result is never sent without the
 * assistant message that called it: leading tool messages are dropped.
 */
export function buildPrompt(store: ThreadStore, opts: { instructions: string | null; below: number; budget: number }): PromptPlan {
  const system = opts.instructions ? estimateTokens(opts.instructions) : 0;
  let remaining = opts.budget - system;
  const picked: PromptRow[] = [];
  let cursor = opts.below;
  outer: while (remaining > 0) {
    const page = store.promptRowsBelow(cursor, PAGE);
    for (const row of page) {
      if (row.tokens > remaining) break outer;
      remaining -= row.tokens;
      picked.push(row);
      cursor = row.seq;
    }
    if (page.length < PAGE) break;
  }
  picked.reverse();
  while (picked.length > 0 && picked[0]!.role === "tool") remaining += picked.shift()!.tokens;

  const messages: ChatMessage[] = [];
  if (opts.instructions) messages.push({ role: "system", content: opts.instructions });
  for (const row of picked) messages.push(toChatMessage(row));
  return { messages, tokens: opts.budget - remaining, included: picked.length };
}

function toChatMessage(row: PromptRow): ChatMessage {
  const extra = row.extra ? (JSON.parse(row.extra) as Record<string, unknown>) : {};
  return { role: row.role, content: row.content, ...extra } as ChatMessage;
}
