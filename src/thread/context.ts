/** The context builder: which messages go upstream for a turn (DESIGN.md, storage rules). */
import type OpenAI from "openai";
import type { PromptRow, ThreadStore } from "./store.ts";
import { estimateTokens } from "../upstream/tokens.ts";
import { rowContent } from "./content.ts";
import { OPEN_CALL_WINDOW, toolFieldsOf } from "./toolcalls.ts";

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ToolFields = ReturnType<typeof toolFieldsOf>;

/** Rows read per indexed page while walking back from the newest message. */
const PAGE = 64;

export interface PromptPlan {
  messages: ChatMessage[];
  /** Estimated prompt tokens, instructions included. */
  tokens: number;
  /** How many history messages were included. */
  included: number;
  /** True when older history was left out for the budget (truncation "disabled" refuses that). */
  truncated: boolean;
  /** True when not even the newest message (or call with its results) fit beside the instructions and pinned messages. */
  newestDropped: boolean;
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
 * Tokens of the newest rows that tool results sent now must go upstream with
 * (history newest first): the results already stored and the assistant message
 * that made the calls. 0 when the newest rows are no open call. Reads at most
 * OPEN_CALL_WINDOW rows.
 */
export function openGroupTokens(history: Iterable<PromptRow>): number {
  let n = 0;
  let seen = 0;
  for (const row of history) {
    if (++seen > OPEN_CALL_WINDOW) return 0;
    n += row.tokens;
    if (row.role !== "tool") return row.role === "assistant" && toolFieldsOf(row).tool_calls ? n : 0;
  }
  return 0;
}

/**
 * Instructions plus the newest rows of `history` whose estimated tokens fit
 * `budget`, oldest first. It stops at the first row that does not fit, so the
 * work is bounded by the window, not the thread's length. An assistant message
 * that called tools and the tool results after it are taken together or not at
 * all (never split by the budget); a tool result whose call is not there is
 * never sent, and a call without its result is left out of its message (a cut
 * or abandoned call reaches no model).
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
  // Tool results read so far (newest first), waiting for the assistant message that called them.
  let results: PromptRow[] = [];
  let truncated = false;
  // Each row's stored tool fields, parsed once (the extra JSON may hold a long reasoning text).
  const parsed = new Map<PromptRow, ToolFields>();
  const fieldsOf = (r: PromptRow): ToolFields => {
    let f = parsed.get(r);
    if (!f) parsed.set(r, (f = toolFieldsOf(r)));
    return f;
  };
  for (const row of history) {
    if (pinnedSeqs.has(row.seq)) break; // the walk has reached the pinned opening: everything is in
    if (row.role === "tool") {
      results.push(row);
      continue;
    }
    const calls = row.role === "assistant" ? fieldsOf(row).tool_calls : undefined;
    // Newest first: the results, then the message that called them. Results with no call before them are orphans: dropped.
    const group = calls ? [...results, row] : [row];
    results = [];
    const cost = group.reduce((n, r) => n + r.tokens, 0);
    if (cost > remaining) {
      truncated = true;
      break;
    }
    remaining -= cost;
    picked.push(...group);
  }
  picked.reverse();

  const messages: ChatMessage[] = [];
  if (opts.instructions) messages.push({ role: "system", content: opts.instructions });
  const answered = new Set(picked.flatMap((r) => (r.role === "tool" ? [fieldsOf(r).tool_call_id] : [])));
  for (const row of [...pinned, ...picked]) {
    const m = toChatMessage(row, fieldsOf(row), answered);
    if (m) messages.push(m);
  }
  return { messages, tokens: opts.budget - remaining, included: pinned.length + picked.length, truncated, newestDropped: truncated && picked.length === 0 };
}

/** How many opening system messages a thread may pin into every prompt. */
export const MAX_PINNED = 4;

/** The chat message of a row: its content as sent, and only the tool fields the upstream knows; null for a call-only message whose calls all went unanswered. */
function toChatMessage(row: PromptRow, fields: ToolFields, answered: Set<string | undefined>): ChatMessage | null {
  const content = rowContent(row);
  const { tool_calls, tool_call_id } = fields;
  if (tool_call_id) return { role: "tool", content, tool_call_id } as ChatMessage;
  if (tool_calls) {
    const kept = tool_calls.filter((c) => answered.has(c.id));
    if (kept.length === 0) return content === "" ? null : ({ role: row.role, content } as ChatMessage);
    return { role: "assistant", content, tool_calls: kept } as ChatMessage;
  }
  return { role: row.role, content } as ChatMessage;
}
