/** The Responses API inside a ThreadObject: a response is a turn, stored with what its request asked for. */
import { BadRequestError, NotFoundError } from "../errors.ts";
import type { ResponseCreate, ResponseObject, ResponseRequest } from "../protocol/openai.ts";
import type { MessageCreate, TurnCreate } from "../protocol/schemas.ts";
import type { TurnResult } from "../protocol/types.ts";
import { ephemeralResponse, ephemeralStream } from "../responses/ephemeral.ts";
import { ResponseEventWriter } from "../responses/events.ts";
import { responseId } from "../responses/ids.ts";
import { outputItemOf, responseObject } from "../responses/shape.ts";
import type { Settings } from "../settings.ts";
import type { Upstream } from "../upstream/client.ts";
import { messageFromItem } from "./conversations.ts";
import { remember, type IdempotencyKey } from "./idempotency.ts";
import { ancestorHistory, buildPrompt, MAX_PINNED, threadHistory } from "./context.ts";
import { isTurnEnd, turnOfEvent, type EventLog } from "./events.ts";
import { byteStream, followEvents } from "./follow.ts";
import { resolveSeq } from "./paging.ts";
import { planTurn } from "./plan.ts";
import { messageId, messageShape, seqOf, turnShape } from "./shapes.ts";
import type { PromptRow, ThreadRow, ThreadStore } from "./store.ts";
import { estimateTokens } from "../upstream/tokens.ts";
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
    const parent = mode.kind === "chain" && mode.previousTurnId ? this.parentSeq(t, mode.previousTurnId) : null;
    const { inputs, request, params } = prepare(body, body.model ?? t.model, conversationId);
    // Instructions apply to this response only; a conversation's own instructions (if it is
    // also a thread that has some) stand in when the request has none.
    const instructions = body.instructions ?? (mode.kind === "conversation" ? t.instructions : null);
    if (!request.store) {
      const store = this.d.store;
      const past = mode.kind === "conversation" ? threadHistory(store, Number.MAX_SAFE_INTEGER) : ancestorHistory(store, parent);
      const pinned = mode.kind === "conversation" ? store.leadingSystem(MAX_PINNED) : [];
      return runEphemeral(this.d.upstream(), this.d.settings, body, { inputs, request, params }, instructions, past, pinned);
    }

    const turnBody: TurnCreate = { input: inputs.map((i) => i.message), model: body.model ?? undefined, params };
    const { turn } = this.d.turns.start(turnBody, {
      instructions,
      chainParent: mode.kind === "chain" ? parent : undefined,
      // A chain continuing a conversation's response lives here, with its history, but is not the conversation.
      branch: mode.kind === "chain" && !t.hidden,
      extras: inputs.map((i) => i.extra),
      written: (seq) => {
        this.d.store.insertResponse({ turn: seq, parent, request: JSON.stringify(request) });
        remember(this.d.store, idem, { turn: seq });
      },
    });
    const seq = seqOf(turn.id, "turn", t.id_prefix)!;
    if (!body.stream) return this.d.turnResult(seq).then(() => this.retrieve(turn.id));
    return this.follow(seq);
  }

  /**
   * The answer to an idempotent retry of a stored response: the same response
   * once it has ended (a failed one throws its error again), or, streamed, its
   * events rebuilt from what was stored (the text as one delta).
   */
  async replay(seq: number, stream: boolean): Promise<ResponseObject | ReadableStream<Uint8Array>> {
    const turnId = turnShape(this.d.thread(), this.d.store.turn(seq)!).id;
    if (!stream) {
      await this.d.turnResult(seq);
      return this.retrieve(turnId);
    }
    await this.d.turns.whenDone(seq)?.catch(() => {});
    const r = this.retrieve(turnId);
    const out = byteStream();
    const frames = new ResponseEventWriter(out.write);
    frames.created({ ...r, status: "in_progress", output: [], output_text: "", usage: null });
    const item = r.output[0];
    if (item) {
      frames.itemAdded(item.id);
      frames.delta(item.content.map((c) => c.text).join(""));
    }
    frames.finished(r);
    out.close();
    return out.readable;
  }

  /** The stored response of a turn; 404 if there is none or it was deleted. */
  retrieve(turnId: string): ResponseObject {
    const t = this.d.thread();
    const { row, turnRow } = resolveSeq(t, turnId, "turn", (seq) => this.storedResponse(seq),
      () => new NotFoundError(`Response with id '${responseId(t.id, turnId)}' not found.`, "response_id"));
    const turn = turnShape(t, turnRow);
    const out = this.d.store.message(turnRow.output_seq);
    const reply = out ? outputItemOf(messageShape(t, out)) : null;
    return responseObject(responseId(t.id, turn.id), turn, JSON.parse(row.request) as ResponseRequest, reply);
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

  /** Streams a stored response's events as the Responses API names them, until it ends. */
  private follow(seq: number): ReadableStream<Uint8Array> {
    const t = this.d.thread();
    const turnRow = this.d.store.turn(seq)!;
    const turnId = turnShape(t, turnRow).id;
    const replyId = messageId(t.id_prefix, turnRow.output_seq);
    // The turn runs after this synchronous block, so following from the log's end misses nothing.
    const stream = followEvents(this.d.events, {
      after: this.d.events.lastSeq(),
      filter: (e) => turnOfEvent(e) === turnId,
      until: isTurnEnd,
      idle: () => false,
    }, (write) => {
      const out = new ResponseEventWriter(write);
      return {
        // A response that is not a background one is announced in progress, even while its turn waits its turn.
        start: () => out.created({ ...this.retrieve(turnId), status: "in_progress" }),
        event: (e) => {
          if (e.type === "message.created" && e.message.id === replyId) out.itemAdded(replyId);
          else if (e.type === "message.delta") out.delta(e.delta);
          else if (isTurnEnd(e)) out.finished(this.retrieve(turnId));
        },
      };
    })!;
    this.d.waitUntil(this.d.turns.whenDone(seq)?.catch(() => {}) ?? Promise.resolve());
    return stream;
  }
}

/** What a Responses request becomes, whatever object it runs in: its input messages, the request kept with it, its sampling. */
interface Prepared {
  inputs: { message: MessageCreate; extra: string | null }[];
  request: ResponseRequest;
  params: { temperature?: number; top_p?: number; max_tokens?: number };
}

function prepare(body: ResponseCreate, model: string, conversationId: string | null): Prepared {
  const inputs = (typeof body.input === "string" ? [{ role: "user" as const, content: body.input }] : body.input).map(messageFromItem);
  for (const [i, m] of inputs.entries()) {
    if (m.message.content === "") throw new BadRequestError("Input items must have text.", typeof body.input === "string" ? "input" : `input[${i}].content`);
  }
  const request: ResponseRequest = {
    instructions: body.instructions ?? null,
    model,
    metadata: body.metadata ?? {},
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    previous_response_id: body.previous_response_id ?? null,
    conversation: conversationId,
    store: body.store ?? true,
    ...(body.user ? { user: body.user } : {}),
  };
  const params = {
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { top_p: body.top_p } : {}),
    ...(body.max_output_tokens != null ? { max_tokens: body.max_output_tokens } : {}),
  };
  return { inputs, request, params };
}

/** store:false: the history in `past` (newest first) is read, never written, and the answer comes straight from the upstream. */
function runEphemeral(upstream: Upstream, settings: Settings, body: ResponseCreate, { inputs, request, params }: Prepared,
  instructions: string | null, past: Iterable<PromptRow>, pinned: PromptRow[]): Promise<ResponseObject> | ReadableStream<Uint8Array> {
  const plan = planTurn({ dev: upstream.dev, model: request.model, params, instructions,
    inputs: () => inputs.map((m) => m.message.content), maxTokensParam: "max_output_tokens" });
  const input: PromptRow[] = inputs.map((m, i) => ({
    seq: -i, role: m.message.role, content: m.message.content, tokens: estimateTokens(m.message.content), extra: null,
  })).reverse();
  function* history() {
    yield* input;
    yield* past;
  }
  const prompt = buildPrompt(history(), { instructions, budget: plan.budget, pinned });
  if (prompt.included < input.length) {
    throw new BadRequestError(`The input does not fit the model's context window.`, "input", "context_length_exceeded");
  }
  const r = { upstream, idleMs: settings.upstream.timeoutMs, maxBytes: settings.limits.contentBytes, messages: prompt.messages, model: plan.model, maxTokens: plan.maxTokens, sampling: plan.sampling,
    request: { ...request, model: plan.model } };
  return body.stream ? ephemeralStream(r) : ephemeralResponse(r);
}

/** A store:false response with no history: nothing to read, nothing written, not even a schema. */
export function ephemeralWithoutHistory(upstream: Upstream, settings: Settings, body: ResponseCreate):
  Promise<ResponseObject> | ReadableStream<Uint8Array> {
  return runEphemeral(upstream, settings, body, prepare(body, body.model ?? settings.defaultModel, null), body.instructions ?? null, [], []);
}
