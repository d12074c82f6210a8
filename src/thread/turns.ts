/** Turn lifecycle inside a ThreadObject: write the input, queue, call upstream, write the reply once. */
import { ApiError, BadRequestError, ConflictError, NotFoundError } from "../errors.ts";
import type { Settings } from "../settings.ts";
import type { MessageCreate, Params, TurnCreate } from "../protocol/schemas.ts";
import type { Message, ToolCall, Turn, TurnResult, TurnStatus } from "../protocol/types.ts";
import type { Upstream } from "../upstream/client.ts";
import { mapUpstreamError } from "../upstream/errors.ts";
import { isJsonFormat, newProgress, readAnswer, wasCut, type ReplyProgress } from "../upstream/reply.ts";
import { extraOf, normalizeInput, sentMessageRow } from "./content.ts";
import { ancestorHistory, buildPrompt, chainHistory, MAX_PINNED, openGroupTokens, threadHistory } from "./context.ts";
import type { EventLog } from "./events.ts";
import { planTurn, type TurnPlan } from "./plan.ts";
import { messageShape, turnShape } from "./shapes.ts";
import type { MessageRow, PromptRow, ThreadRow, ThreadStore, TurnRow } from "./store.ts";
import { estimateTokens } from "../upstream/tokens.ts";
import { checkToolInput, recentToolWindow } from "./toolcalls.ts";

const now = () => Math.floor(Date.now() / 1000);

export interface TurnHost {
  store: ThreadStore;
  events: EventLog;
  /** This deployment's settings (limits, upstream timeout). */
  settings: Settings;
  /** The thread row, or null once the thread has been deleted. */
  thread(): ThreadRow | null;
  /** Called after a turn ends, to refresh the tenant's directory entry. */
  touched(): Promise<void>;
  /** The upstream client (injected: built once per object from configuration, or a test's). */
  upstream(): Upstream;
}

/** What a finished turn produced: its final shape, its reply, and the error if it failed. */
export interface TurnOutcome {
  result: TurnResult;
  error: ApiError | null;
}

/** How a turn differs from a plain thread turn (the Responses API uses these). */
export interface TurnOptions {
  /** Instructions for this turn only, instead of the thread's (null: none). */
  instructions?: string | null;
  /** Build the prompt from a response chain ending at this turn's parent (null: a chain's first response). */
  chainParent?: number | null;
  /** Stored `extra` JSON per input message, instead of the one derived from its tool fields. */
  extras?: (string | null)[];
  /** Mark the turn's messages as a branch: kept for its chain, but not the thread's (conversation's) own. */
  branch?: boolean;
  /** Called inside the synchronous write block with the new turn's seq, to write alongside it. */
  written?: (turnSeq: number) => void;
  /** Fields sent upstream as they are (reasoning_effort, logprobs), beside the plan's. */
  upstreamExtra?: Record<string, unknown>;
  /** Most tool calls the reply may make (max_tool_calls); the rest are dropped. */
  maxToolCalls?: number;
  /** The caller already checked the input's tool results (the Responses API names its items its own way). */
  toolsChecked?: boolean;
}

/** How a turn ended, for finish(): what was read of the reply, and the error if it failed. */
interface TurnEnd {
  status: TurnStatus;
  usage?: { input_tokens: number; output_tokens: number } | null;
  /** The reply's text so far (default: none). */
  text?: string;
  error?: ApiError | null;
  /** The model that answered (default: the one the turn was queued with). */
  model?: string | null;
  /** The tool calls of a reply that ended normally (a cut reply keeps none). */
  calls?: ToolCall[];
  /** Reasoning text the upstream sent, stored with the reply and never sent back upstream. */
  reasoning?: string;
}

interface Running {
  seq: number;
  abort: AbortController;
  /** What has arrived of its reply so far (shown by a background response's GET). */
  progress: ReplyProgress;
}

/** Runs a thread's turns one at a time, in arrival order. */
export class TurnRunner {
  private chain: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private running: Running | null = null;
  /** Turns queued or running, by seq: what a cancel or an idempotent retry waits for. */
  private readonly inflight = new Map<number, Promise<TurnOutcome>>();

  constructor(private readonly host: TurnHost) {}

  /** True while a turn is queued or running. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Turns queued or running; a turn still counts while its end event is being emitted. */
  get pendingCount(): number {
    return this.pending;
  }

  /**
   * Validates a turn, then, synchronously, writes its input messages and the
   * queued turn row and schedules it. SQL calls are synchronous, so these writes
   * commit together before the output gate lets any reply (or the upstream
   * request) out: an acknowledged message is never lost.
   */
  start(body: TurnCreate, opts: TurnOptions = {}): { turn: Turn; done: Promise<TurnOutcome> } {
    const { store, events } = this.host;
    const thread = this.host.thread()!;
    const strategy = body.strategy ?? "enqueue";
    if (strategy === "reject" && this.busy) throw new ConflictError("A turn is already running on this thread.", "thread_busy");

    const dev = this.host.upstream().dev;
    let inputs: MessageCreate[] = [];
    const instructions = opts.instructions !== undefined ? opts.instructions : thread.instructions;
    // The newest rows the tool checks read (the thread's own, or the chain's): read once for both.
    let recent: Iterable<PromptRow> | undefined;
    const toolHistory = () => opts.chainParent === undefined
      ? (recent ??= recentToolWindow(store))
      : ancestorHistory(store, opts.chainParent);
    const { tools, tool_choice, parallel_tool_calls, response_format } = body;
    const turnTools = Object.fromEntries(Object.entries({ tools, tool_choice, parallel_tool_calls, response_format }).filter(([, v]) => v !== undefined));
    const plan = planTurn({
      dev, model: body.model ?? thread.model,
      params: { ...(JSON.parse(thread.params) as Params), ...body.params, ...turnTools },
      instructions, maxTokensParam: "params.max_tokens",
      inputs: () => (inputs = normalizeInput(body.input, this.host.settings.limits)).map((m) => m.content),
      // Tool results go upstream with the call they answer (never split by the budget): both must fit.
      alongside: () => inputs.some((m) => m.role === "tool") ? openGroupTokens(toolHistory()) : 0,
    });
    if (!opts.toolsChecked) checkToolInput(inputs, toolHistory(),
      { strategy, param: (i) => typeof body.input === "string" ? "input" : `input[${i}].tool_call_id` });
    if (strategy === "interrupt" && this.running) this.abortRunning();

    const t = now();
    // Seqs for the input and the reply, the turn number, the count and the stamp: one write of the thread row.
    const { first, turn: turnSeq } = store.reserve({ messages: inputs.length + 1, turns: 1, counted: opts.branch ? 0 : inputs.length, updated_at: t });
    const outputSeq = first + inputs.length;
    const turnRow = { seq: turnSeq, status: "queued" as TurnStatus, input_first: first, input_last: outputSeq - 1,
      output_seq: outputSeq, model: plan.model, usage: null, error: null, created_at: t, completed_at: null };
    store.insertTurn(turnRow);
    const written = inputs.map((m, i) =>
      sentMessageRow(m, { seq: first + i, turn: turnSeq, created_at: t, extra: opts.extras?.[i] ?? extraOf(m), branch: opts.branch }));
    store.insertCounted(written);
    opts.written?.(turnSeq);

    const turn = turnShape(thread, turnRow);
    events.emitAll([{ type: "turn.created", turn }, ...written.map((row) => ({ type: "message.created" as const, message: messageShape(thread, row) }))]);

    this.pending++;
    const done = this.chain.then(() => this.run(turnSeq, plan,
      { instructions, chainParent: opts.chainParent, extra: opts.upstreamExtra, maxToolCalls: opts.maxToolCalls, branch: opts.branch ?? false }));
    const settled = done.finally(() => {
      this.pending--;
      this.inflight.delete(turnSeq);
    });
    this.inflight.set(turnSeq, settled);
    this.chain = settled.catch(() => {});
    return { turn, done: settled };
  }

  /** What has arrived so far of the reply of turn `seq` while it runs (read-only), else null. */
  partial(seq: number): Readonly<ReplyProgress> | null {
    return this.running?.seq === seq ? this.running.progress : null;
  }

  /** The outcome of a turn still queued or running, or null if it has ended. */
  whenDone(seq: number): Promise<TurnOutcome> | null {
    return this.inflight.get(seq) ?? null;
  }

  /**
   * Cancels a turn: a running one is aborted (its partial reply is kept as
   * incomplete), a queued one is closed at once and will not run; a turn that
   * has ended is left as it is. Resolves when the turn has ended.
   */
  async cancel(seq: number): Promise<void> {
    const done = this.inflight.get(seq);
    if (!done) return;
    if (this.running?.seq === seq) this.abortRunning();
    else if (this.host.store.turn(seq)?.status === "queued") await this.finish(seq, { status: "cancelled" });
    await done.catch(() => {});
  }

  private abortRunning(): void {
    this.running?.abort.abort();
  }

  private async run(seq: number, plan: TurnPlan,
    how: { instructions: string | null; chainParent: number | null | undefined; extra?: Record<string, unknown>; maxToolCalls?: number; branch: boolean }): Promise<TurnOutcome> {
    const { store, events } = this.host;
    const thread = this.host.thread();
    if (!thread) return deletedOutcome();
    const turnRow = store.startQueuedTurn(seq);
    if (!turnRow) {
      const row = store.turn(seq);
      if (!row) return deletedOutcome();
      // Cancelled while it waited: nothing to run.
      return { result: { ...turnShape(thread, row), output: null }, error: null };
    }
    const abort = new AbortController();
    const p = newProgress();
    this.running = { seq, abort, progress: p };
    const started = turnShape(thread, turnRow);
    const turnId = started.id;
    const reply = messageShape(thread, placeholder(turnRow.output_seq, seq));
    events.emitAll([{ type: "turn.started", turn: started }, { type: "message.created", message: reply }]);
    // finish() needs the row and where the reply belongs; it is given both instead of reading them again.
    const ending = { row: turnRow, branch: how.branch };

    try {
      const history = how.chainParent === undefined
        ? threadHistory(store, turnRow.output_seq)
        : chainHistory(store, turnRow, how.chainParent);
      const pinned = how.chainParent === undefined ? store.leadingSystem(MAX_PINNED) : [];
      const prompt = buildPrompt(history, { instructions: how.instructions, budget: plan.budget, pinned });
      // The input was checked to fit before it was written, but pinned system messages come first:
      // a prompt with nothing of the current exchange is refused rather than sent.
      if (prompt.newestDropped) throw new BadRequestError("The input (with the tool call it answers, if any) does not fit the model's context window beside the instructions and the thread's opening system messages.", "input", "context_length_exceeded");
      const request = { ...plan.sampling, ...how.extra, model: plan.model, messages: prompt.messages, max_tokens: plan.maxTokens };
      const reading = { signal: abort.signal, idleMs: this.host.settings.upstream.timeoutMs, maxBytes: this.host.settings.limits.contentBytes,
        onDelta: (delta: string) => events.emit({ type: "message.delta", message_id: reply.id, turn_id: turnId, delta }),
        // Calls beyond max_tool_calls are dropped, so their fragments are not announced either.
        onToolDelta: (d: { index: number; call_id: string; name: string; delta: string }) =>
          d.index < (how.maxToolCalls ?? Infinity) && events.emit({ type: "message.tool_call.delta", message_id: reply.id, turn_id: turnId, ...d }),
        onReasoning: (delta: string) => events.emit({ type: "message.reasoning.delta", message_id: reply.id, turn_id: turnId, delta }) };
      // A JSON reply is read whole and announced as one delta.
      const calls = await readAnswer(this.host.upstream().client, request, p, reading,
        { json: isJsonFormat(plan.sampling), maxToolCalls: how.maxToolCalls });
      if (abort.signal.aborted) return await this.finish(seq, { status: "cancelled", usage: p.usage, text: p.text, model: plan.model }, ending);
      const usage = p.usage ?? { input_tokens: prompt.tokens, output_tokens: estimateTokens(p.text) };
      return await this.finish(seq, { status: wasCut(p, calls) ? "incomplete" : calls.length ? "requires_action" : "completed",
        usage, text: p.text, model: plan.model, calls, reasoning: p.reasoning }, ending);
    } catch (err) {
      if (abort.signal.aborted) return await this.finish(seq, { status: "cancelled", usage: p.usage, text: p.text, model: plan.model }, ending);
      return await this.finish(seq, { status: "failed", usage: p.usage, text: p.text, error: mapUpstreamError(err), model: plan.model }, ending);
    } finally {
      this.running = null;
    }
  }

  /**
   * Writes the reply once (if there is any text, or the turn completed), closes the turn and emits its end.
   * `known` is the turn's row and whether its messages are a branch, when the caller has them (else they are read).
   */
  private async finish(seq: number, end: TurnEnd, known?: { row: TurnRow; branch: boolean }): Promise<TurnOutcome> {
    const { status, usage = null, text = "", error = null, model = null, calls = [], reasoning = "" } = end;
    const { store, events } = this.host;
    const thread = this.host.thread();
    const turnRow = known?.row ?? store.turn(seq);
    if (!thread || !turnRow) return deletedOutcome();
    const t = now();
    let output: Message | null = null;
    let counted = 0;
    if (text !== "" || status === "completed" || status === "incomplete" || status === "requires_action") {
      const row: MessageRow = {
        seq: turnRow.output_seq, role: "assistant", content: text,
        status: status === "completed" || status === "requires_action" ? "completed" : "incomplete", turn: seq, created_at: t,
        // The same deliberate over-estimate as every other message (never below the upstream's own count),
        // so the context budget keeps one safety margin throughout.
        // Calls go upstream again with their arguments, so they count too.
        tokens: Math.max(estimateTokens(calls.length ? text + JSON.stringify(calls) : text), (usage?.output_tokens ?? 0) + 4),
        metadata: null, usage: usage ? JSON.stringify(usage) : null,
        extra: calls.length || reasoning ? JSON.stringify({ ...(calls.length ? { tool_calls: calls } : {}), ...(reasoning ? { reasoning } : {}) }) : null,
        // A reply belongs where its input does (a conversation's items, or a branch off it).
        branch: known ? (known.branch ? 1 : null) : store.message(turnRow.input_first)?.branch ?? null,
      };
      store.insertCounted([row]);
      counted = row.branch ? 0 : 1;
      output = messageShape(thread, row);
    }
    const ended = store.updateTurn(seq, { status, model: model ?? undefined, usage: usage ? JSON.stringify(usage) : null,
      error: error ? JSON.stringify(error.body().error) : null, completed_at: t });
    // The reply's place in the message count, the totals and the stamp: one write of the thread row.
    store.updateThread({
      updated_at: t,
      message_count: thread.message_count + counted,
      input_tokens: thread.input_tokens + (usage?.input_tokens ?? 0),
      output_tokens: thread.output_tokens + (usage?.output_tokens ?? 0),
    });
    const turn = turnShape(thread, ended);
    events.emitAll([...(output ? [{ type: "message.completed" as const, message: output }] : []), { type: `turn.${status}` as "turn.completed", turn }]);
    try {
      await this.host.touched();
    } catch (err) {
      console.error("directory update failed", err);
    }
    return { result: { ...turn, output }, error };
  }
}

/** The outcome of a turn whose thread was deleted under it. */
function deletedOutcome(): TurnOutcome {
  throw new NotFoundError("The thread was deleted while the turn was running.");
}

function placeholder(seq: number, turn: number): MessageRow {
  return { seq, role: "assistant", content: "", status: "in_progress", turn, created_at: now(), tokens: 0,
    metadata: null, usage: null, extra: null };
}

