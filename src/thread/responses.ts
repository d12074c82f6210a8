/** The Responses API inside a ThreadObject: a response is a turn, stored with what its request asked for. */
import { BadRequestError, NotFoundError } from "../errors.ts";
import type { OutputItem, ResponseCreate, ResponseObject, ResponseRequest } from "../protocol/openai.ts";
import type { TurnCreate } from "../protocol/schemas.ts";
import type { TurnResult } from "../protocol/types.ts";
import { ephemeralResponse, ephemeralStream } from "../responses/ephemeral.ts";
import { ResponseEventWriter } from "../responses/events.ts";
import { itemId, responseId } from "../responses/ids.ts";
import { outputOf } from "../responses/items.ts";
import { responseObject } from "../responses/shape.ts";
import type { Settings } from "../settings.ts";
import type { Upstream } from "../upstream/client.ts";
import { normalizeInput, sentMessageRow } from "./content.ts";
import { remember, type IdempotencyKey } from "./idempotency.ts";
import { ancestorHistory, buildPrompt, MAX_PINNED, threadHistory } from "./context.ts";
import { isTurnEnd, turnOfEvent, type EventLog } from "./events.ts";
import { byteStream, followEvents } from "./follow.ts";
import { resolveSeq } from "./paging.ts";
import { planTurn } from "./plan.ts";
import { prepareResponse, type PreparedResponse } from "./responseRequest.ts";
import { messageId, messageShape, seqOf, turnShape } from "./shapes.ts";
import type { PromptRow, ThreadRow, ThreadStore } from "./store.ts";
import { checkToolInput, recentToolWindow } from "./toolcalls.ts";
import type { TurnRunner } from "./turns.ts";

/** Where a response's history comes from: the conversation this object is, or a chain of responses in it. */
export type ResponseMode = { kind: "conversation" } | { kind: "chain"; previousTurnId: string | null };

export interface ResponsesDeps {
  store: ThreadStore;
  turns: TurnRunner;
  events: EventLog;
  thread(): ThreadRow;
  upstream(): Upstream;
  /** This deployment's settings: the upstream timeout, the longest reply, the default model. */
  settings: Settings;
  /** The turn's result once it has ended (a failed turn throws its error). */
  turnResult(seq: number): Promise<TurnResult>;
  waitUntil(p: Promise<unknown>): void;
}

/** A stored request and, internally, where its events start in the thread's log (for a background stream). */
type StoredRequest = ResponseRequest & { event_after?: number };

export class Responses {
  constructor(private readonly d: ResponsesDeps) {}

  /**
   * Creates a response: stored as a turn (store true) or generated without
   * writing anything (store false). Everything up to the turn's start is
   * synchronous, so a caller can run it inside a storage transaction and have
   * a refused request leave nothing behind; what remains to wait for is returned.
   */
  create(body: ResponseCreate, mode: ResponseMode, conversationId: string | null, idem?: IdempotencyKey):
    ResponseObject | ReadableStream<Uint8Array> | Promise<ResponseObject | ReadableStream<Uint8Array>> {
    const t = this.d.thread();
    const store = this.d.store;
    const parent = mode.kind === "chain" && mode.previousTurnId ? this.parentSeq(t, mode.previousTurnId) : null;
    const prepared = prepareResponse(body, body.model ?? t.model, conversationId);
    // Instructions apply to this response only; a conversation's own instructions (if it is
    // also a thread that has some) stand in when the request has none.
    const instructions = body.instructions ?? (mode.kind === "conversation" ? t.instructions : null);
    const past = () => mode.kind === "conversation" ? threadHistory(store, Number.MAX_SAFE_INTEGER) : ancestorHistory(store, parent);
    const pinned = mode.kind === "conversation" ? store.leadingSystem(MAX_PINNED) : [];
    checkToolInput(prepared.inputs.map((i) => i.message), mode.kind === "conversation" ? recentToolWindow(store) : past(),
      { param: (i) => `input[${i}].call_id` });
    if (!prepared.request.store || prepared.request.truncation === "disabled") {
      const run = planAndBuild(this.d.upstream(), this.d.settings, prepared, instructions, past(), pinned);
      if (!prepared.request.store) return body.stream ? ephemeralStream(run) : ephemeralResponse(run);
    }

    const turnBody: TurnCreate = { input: prepared.inputs.map((i) => i.message), model: body.model ?? undefined, params: prepared.params as TurnCreate["params"] };
    const { turn, done } = this.d.turns.start(turnBody, {
      instructions,
      chainParent: mode.kind === "chain" ? parent : undefined,
      // A chain continuing a conversation's response lives here, with its history, but is not the conversation.
      branch: mode.kind === "chain" && !t.hidden,
      extras: prepared.inputs.map((i) => i.extra),
      upstreamExtra: prepared.extra,
      maxToolCalls: body.max_tool_calls ?? undefined,
      // Tool results were checked above against this response's own history.
      toolsChecked: true,
      written: (seq) => {
        const request: StoredRequest = { ...prepared.request, ...(prepared.request.background ? { event_after: this.d.events.lastSeq() } : {}) };
        this.d.store.insertResponse({ turn: seq, parent, request: JSON.stringify(request) });
        remember(this.d.store, idem, { turn: seq });
      },
    });
    const seq = seqOf(turn.id, "turn", t.id_prefix)!;
    if (prepared.request.background) {
      // The response runs in this object after the answer; the runtime keeps the object alive for it.
      this.d.waitUntil(done.catch(() => {}));
      return body.stream ? this.follow(seq)! : this.retrieve(turn.id);
    }
    if (!body.stream) return this.d.turnResult(seq).then(() => this.retrieve(turn.id));
    return this.follow(seq)!;
  }

  /**
   * The answer to an idempotent retry of a stored response: the same response
   * once it has ended (a failed one throws its error again), or, streamed, its
   * events rebuilt from what was stored.
   */
  async replay(seq: number, stream: boolean): Promise<ResponseObject | ReadableStream<Uint8Array>> {
    const turnId = turnShape(this.d.thread(), this.d.store.turn(seq)!).id;
    if (!stream) {
      await this.d.turnResult(seq);
      return this.retrieve(turnId);
    }
    await this.d.turns.whenDone(seq)?.catch(() => {});
    return this.rebuilt(seq, -1);
  }

  /**
   * `GET /v1/responses/{id}?stream=true&starting_after=N`: the response's events
   * after sequence number N, replayed from the thread's event log and followed
   * live until it ends (rebuilt from the stored response once the log no longer holds them).
   */
  streamStored(turnId: string, startingAfter: number): ReadableStream<Uint8Array> {
    const r = this.retrieve(turnId);
    const seq = seqOf(turnId, "turn", this.d.thread().id_prefix)!;
    const req = JSON.parse(this.d.store.response(seq)!.request) as StoredRequest;
    if (!req.background) throw new BadRequestError("Only a background response can be streamed again (create it with background: true).", "stream");
    const live = this.d.turns.whenDone(seq) !== null;
    const followed = req.event_after !== undefined ? this.follow(seq, req.event_after, startingAfter) : null;
    if (followed) return followed;
    if (live) throw new BadRequestError("This response's events are no longer kept; poll GET /v1/responses/{id}.", null, "resume_window_expired");
    return this.rebuilt(seq, startingAfter, r);
  }

  /** The stored response of a turn; 404 if there is none or it was deleted. */
  retrieve(turnId: string): ResponseObject {
    const t = this.d.thread();
    const { row, turnRow } = resolveSeq(t, turnId, "turn", (seq) => this.storedResponse(seq),
      () => new NotFoundError(`Response with id '${responseId(t.id, turnId)}' not found.`, "response_id"));
    const turn = turnShape(t, turnRow);
    const out = this.d.store.message(turnRow.output_seq);
    const reasoning = out?.extra ? (JSON.parse(out.extra) as { reasoning?: string }).reasoning : undefined;
    const output: OutputItem[] = out ? outputOf(t.id, messageShape(t, out), reasoning) : this.partialOutput(t, turnRow.seq, turnRow.output_seq);
    return responseObject(responseId(t.id, turn.id), turn, JSON.parse(row.request) as ResponseRequest, output);
  }

  /** The text and reasoning a running response has so far, as in-progress items (its calls show once they are whole). */
  private partialOutput(t: ThreadRow, seq: number, outputSeq: number): OutputItem[] {
    const p = this.d.turns.partial(seq);
    if (!p || (p.text === "" && p.reasoning === "")) return [];
    const row = { seq: outputSeq, role: "assistant", content: p.text, status: "in_progress" as const, turn: seq, created_at: 0,
      tokens: 0, metadata: null, usage: null, extra: null };
    return outputOf(t.id, messageShape(t, row), p.reasoning).filter((i) => i.type !== "message" || p.text !== "");
  }

  /** Cancels a queued or running response (background ones are the ones still running when asked); answers it as it ended. */
  async cancel(turnId: string): Promise<ResponseObject> {
    this.retrieve(turnId);
    await this.d.turns.cancel(seqOf(turnId, "turn", this.d.thread().id_prefix)!);
    return this.retrieve(turnId);
  }

  /** Deletes a stored response; responses that already continue it keep their history. */
  delete(turnId: string): { id: string; object: "response"; deleted: true } {
    const r = this.retrieve(turnId);
    this.d.store.markResponseDeleted(seqOf(turnId, "turn", this.d.thread().id_prefix)!);
    return { id: r.id, object: "response", deleted: true };
  }

  /** The seq of the turn of a stored response named as previous_response_id; 400 if there is none. */
  private parentSeq(t: ThreadRow, turnId: string): number {
    return resolveSeq(t, turnId, "turn", (seq) => {
      const row = this.d.store.response(seq);
      return row && !row.deleted ? seq : null;
    }, () => new BadRequestError(`Previous response with id '${responseId(t.id, turnId)}' not found.`, "previous_response_id"));
  }

  /** A stored response that was not deleted, with its turn; null otherwise. */
  private storedResponse(seq: number) {
    const row = this.d.store.response(seq);
    const turnRow = this.d.store.turn(seq);
    return row && !row.deleted && turnRow ? { row, turnRow } : null;
  }

  /** The writer of one response's stream, its item IDs those of the reply message. */
  private writer(seq: number, write: (b: Uint8Array) => void, startingAfter = -1): ResponseEventWriter {
    const t = this.d.thread();
    const replyId = messageId(t.id_prefix, this.d.store.turn(seq)!.output_seq);
    return new ResponseEventWriter(write, (kind, i) => itemId(kind, t.id, replyId, i), startingAfter);
  }

  /** A finished response's events rebuilt from what was stored. */
  private rebuilt(seq: number, startingAfter: number, r = this.retrieve(turnShape(this.d.thread(), this.d.store.turn(seq)!).id)): ReadableStream<Uint8Array> {
    const out = byteStream();
    const frames = this.writer(seq, out.write, startingAfter);
    // A background response's stream numbers its events as the live one did: created, queued, in_progress, …
    frames.created({ ...r, status: r.background ? "queued" : "in_progress", output: [], output_text: "" });
    if (r.background) frames.started(r);
    frames.replay(r);
    out.close();
    return out.readable;
  }

  /** Streams a stored response's events as the Responses API names them, until it ends (null if the log no longer reaches `after`). */
  private follow(seq: number, after = this.d.events.lastSeq(), startingAfter = -1): ReadableStream<Uint8Array> | null {
    const t = this.d.thread();
    const turnId = turnShape(t, this.d.store.turn(seq)!).id;
    const stream = followEvents(this.d.events, {
      after,
      filter: (e) => turnOfEvent(e) === turnId,
      until: isTurnEnd,
      idle: () => false,
    }, (write) => {
      const out = this.writer(seq, write, startingAfter);
      return {
        // A response that is not a background one is announced in progress, even while its turn waits its turn.
        start: () => {
          const r = this.retrieve(turnId);
          out.created({ ...r, status: r.background ? "queued" : "in_progress", output: [], output_text: "" });
        },
        event: (e) => {
          if (e.type === "turn.started" && e.turn.id === turnId) {
            const r = this.retrieve(turnId);
            if (r.background) out.started(r);
          } else if (e.type === "message.delta") out.delta(e.delta);
          else if (e.type === "message.reasoning.delta") out.reasoning(e.delta);
          else if (e.type === "message.tool_call.delta") out.toolDelta(e.index, e.call_id, e.name, e.delta);
          else if (isTurnEnd(e)) out.finished(this.retrieve(turnId));
        },
      };
    });
    if (!stream) return null;
    this.d.waitUntil(this.d.turns.whenDone(seq)?.catch(() => {}) ?? Promise.resolve());
    return stream;
  }
}

/** Plans a response's prompt now: 400 when the input does not fit, or (truncation "disabled") when the history would be cut. */
function planAndBuild(upstream: Upstream, settings: Settings, { inputs, request, params, extra }: PreparedResponse,
  instructions: string | null, past: Iterable<PromptRow>, pinned: PromptRow[]) {
  // The limits a stored turn applies (messages per input, contentBytes per message, data URLs included).
  normalizeInput(inputs.map((m) => m.message), settings.limits);
  const plan = planTurn({ dev: upstream.dev, model: request.model, params, instructions,
    inputs: () => inputs.map((m) => m.message.content), maxTokensParam: "max_output_tokens" });
  const input: PromptRow[] = inputs.map((m, i) => {
    const { seq, role, content, tokens, extra } = sentMessageRow(m.message, { seq: -i, turn: null, created_at: 0, extra: m.extra });
    return { seq, role, content, tokens, extra };
  }).reverse();
  function* history() {
    yield* input;
    yield* past;
  }
  const prompt = buildPrompt(history(), { instructions, budget: plan.budget, pinned });
  if (prompt.included < input.length || (request.truncation === "disabled" && prompt.truncated)) {
    throw new BadRequestError("The input (with the history it continues) does not fit the model's context window; truncation \"auto\" would drop the oldest turns.",
      "input", "context_length_exceeded");
  }
  return { upstream, idleMs: settings.upstream.timeoutMs, maxBytes: settings.limits.contentBytes, messages: prompt.messages, model: plan.model,
    maxTokens: plan.maxTokens, sampling: { ...plan.sampling, ...extra }, request: { ...request, model: plan.model } };
}

/** A store:false response with no history: nothing to read, nothing written, not even a schema. */
export function ephemeralWithoutHistory(upstream: Upstream, settings: Settings, body: ResponseCreate):
  Promise<ResponseObject> | ReadableStream<Uint8Array> {
  const prepared = prepareResponse(body, body.model ?? settings.defaultModel, null);
  checkToolInput(prepared.inputs.map((i) => i.message), [], { param: (i) => `input[${i}].call_id` });
  const run = planAndBuild(upstream, settings, prepared, body.instructions ?? null, [], []);
  return body.stream ? ephemeralStream(run) : ephemeralResponse(run);
}
