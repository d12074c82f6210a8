/** The context builder: which messages go upstream for a turn (DESIGN.md, storage rules). */
import type OpenAI from "openai";
import type { PromptRow, ThreadStore } from "./store.ts";
import { estimateTokens } from "../upstream/tokens.ts";

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

/** A thread's messages below `below`, newest first, read lazily in indexed pages of PAGE rows. */
export function* threadHistory(store: ThreadStore, below: number): Generator<PromptRow> {
  let cursor = below;
  for (;;) {
    const page = store.promptRowsBelow(cursor, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    cursor = page.at(-1)!.seq;
  }
}

/**
 * A response chain's history, newest first: this turn's input, then each
 * ancestor response's input and output, following `parent` links lazily (one
 * primary-key read per ancestor). Other branches of the chain are never read.
 */
export function* chainHistory(store: ThreadStore, turn: { input_first: number; output_seq: number }, parent: number | null): Generator<PromptRow> {
  yield* store.promptRowsBetween(turn.input_first, turn.output_seq - 1);
  yield* ancestorHistory(store, parent);
}

/** The inputs and outputs of a response and its ancestors, newest first. */
export function* ancestorHistory(store: ThreadStore, parent: number | null): Generator<PromptRow> {
  for (let p = parent; p !== null; ) {
    const t = store.turn(p);
    if (!t) return;
    yield* store.promptRowsBetween(t.input_first, t.output_seq);
    p = store.response(p)?.parent ?? null;
  }
}

/**
 * Instructions plus the newest rows of `history` whose estimated tokens fit
 * `budget`, oldest first. It stops at the first row that does not fit, so the
 * work is bounded by the window, not the thread's length. A tool result is
 * never sent without the assistant message that called it: leading tool
 * messages are dropped.
 */
export function buildPrompt(history: Iterable<PromptRow>, opts: { instructions: string | null; budget: number; pinned?: PromptRow[] }): PromptPlan {
  const system = opts.instructions ? estimateTokens(opts.instructions) : 0;
  let remaining = opts.budget - system;
  // The thread's opening system messages are its system prompt: kept like the instructions, if they fit.
  const pinned: PromptRow[] = [];
  for (const row of opts.pinned ?? []) {
    if (row.tokens > remaining) break;
    remaining -= row.tokens;
    pinned.push(row);
  }
  const pinnedSeqs = new Set(pinned.map((r) => r.seq));
  const picked: PromptRow[] = [];
  for (const row of history) {
    if (pinnedSeqs.has(row.seq)) break; // the walk has reached the pinned opening: everything is in
    if (row.tokens > remaining) break;
    remaining -= row.tokens;
    picked.push(row);
  }
  picked.reverse();
  while (picked.length > 0 && picked[0]!.role === "tool") remaining += picked.shift()!.tokens;

  const messages: ChatMessage[] = [];
  if (opts.instructions) messages.push({ role: "system", content: opts.instructions });
  for (const row of [...pinned, ...picked]) messages.push(toChatMessage(row));
  return { messages, tokens: opts.budget - remaining, included: pinned.length + picked.length };
}

/** How many opening system messages a thread may pin into every prompt. */
export const MAX_PINNED = 4;

function toChatMessage(row: PromptRow): ChatMessage {
  // item_role (a Responses "developer" message kept as system) is ours, not the upstream's.
  const { item_role: _, ...extra } = row.extra ? (JSON.parse(row.extra) as Record<string, unknown>) : {};
  return { role: row.role, content: row.content, ...extra } as ChatMessage;
}
