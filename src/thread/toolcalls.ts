/**
 * Tool calls across turns: which calls are waiting for results, and whether a
 * turn's tool messages answer calls that exist. Reads only the newest rows of
 * the history it is given (at most OPEN_CALL_WINDOW), never a whole thread.
 */
import { BadRequestError, ConflictError } from "../errors.ts";
import type { MessageCreate, Strategy } from "../protocol/schemas.ts";
import type { ToolCall } from "../protocol/types.ts";
import type { PromptRow, ThreadStore } from "./store.ts";

/** Most rows looked at to find the open calls: the answers follow their calls closely. */
export const OPEN_CALL_WINDOW = 64;

/**
 * The thread's newest OPEN_CALL_WINDOW rows without content, newest first,
 * read lazily and kept for every pass over them: a check usually stops at the
 * newest row (no call is open), so that row is read alone first, and the rest
 * of the window, if a pass goes on, in one more read.
 */
export function recentToolWindow(store: ThreadStore): Iterable<PromptRow> {
  const rows: PromptRow[] = [];
  let end = false;
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < OPEN_CALL_WINDOW; i++) {
        if (i === rows.length) {
          if (end) return;
          const want = i === 0 ? 1 : OPEN_CALL_WINDOW - i;
          const page = store.recentToolFields(want, rows.at(-1)?.seq);
          rows.push(...page);
          if (page.length < want) end = true;
          if (i === rows.length) return;
        }
        yield rows[i]!;
      }
    },
  };
}

/** The stored tool fields of a row. */
export function toolFieldsOf(row: Pick<PromptRow, "extra">): { tool_calls?: ToolCall[]; tool_call_id?: string } {
  return row.extra ? (JSON.parse(row.extra) as { tool_calls?: ToolCall[]; tool_call_id?: string }) : {};
}

/**
 * The calls of the latest assistant message (history newest first), and which
 * of them have no result yet. Tool messages after it are its results; any
 * other message after it means the conversation moved on and nothing is open.
 */
export function openCalls(history: Iterable<PromptRow>): { calls: ToolCall[]; unanswered: ToolCall[] } {
  const answered = new Set<string>();
  let seen = 0;
  for (const row of history) {
    if (++seen > OPEN_CALL_WINDOW) break;
    const f = toolFieldsOf(row);
    if (row.role === "tool") {
      if (f.tool_call_id) answered.add(f.tool_call_id);
      continue;
    }
    const calls = row.role === "assistant" ? f.tool_calls ?? [] : [];
    return { calls, unanswered: calls.filter((c) => !answered.has(c.id)) };
  }
  return { calls: [], unanswered: [] };
}

/**
 * Checks a turn's input against the open calls: every tool message must answer
 * a call of the latest assistant message or one made earlier in this input
 * (400 naming it otherwise, before anything is stored); and an input with no
 * tool result while calls wait is a 409 `tool_outputs_pending`, unless the
 * strategy is `interrupt`, which leaves the calls unanswered (the context
 * builder then sends them to no model: see buildPrompt).
 */
export function checkToolInput(inputs: MessageCreate[], history: Iterable<PromptRow>, opts: { strategy?: Strategy; param: (i: number) => string }): void {
  const open = openCalls(history);
  const known = new Set(open.calls.map((c) => c.id));
  let answers = 0;
  inputs.forEach((m, i) => {
    for (const c of m.tool_calls ?? []) known.add(c.id);
    if (m.role !== "tool") return;
    answers++;
    if (!known.has(m.tool_call_id!)) {
      throw new BadRequestError(`No tool call found with id '${m.tool_call_id}': a tool result must answer a call of the latest assistant message.`, opts.param(i));
    }
  });
  const ownCalls = inputs.some((m) => m.tool_calls);
  if (open.unanswered.length > 0 && answers === 0 && !ownCalls && opts.strategy !== "interrupt") {
    throw new ConflictError(
      `The latest reply called tools and their results are pending (${open.unanswered.map((c) => c.id).join(", ")}): send them (tool messages, or function_call_output items), or, on a native turn, use strategy "interrupt" to move on without them.`,
      "tool_outputs_pending");
  }
}
