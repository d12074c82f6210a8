/** The turn operations callers reach (HTTP, SSE, WebSocket): admit, start under an idempotency key, wait, stream, cancel. */
import { ApiError, BadRequestError, NotFoundError } from "../errors.ts";
import type { ClientFrame, TurnCreate } from "../protocol/schemas.ts";
import type { Turn, TurnResult } from "../protocol/types.ts";
import { isTurnEnd, turnOfEvent } from "./events.ts";
import { bodyHash, recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { resolveSeq } from "./paging.ts";
import type { ThreadParts } from "./parts.ts";
import { messageShape, seqOf, turnShape } from "./shapes.ts";
import { followEvents } from "./follow.ts";
import type { ThreadRow, TurnRow } from "./store.ts";

export class TurnCalls {
  constructor(private readonly p: ThreadParts) {}

  /**
   * What an idempotent retry recorded, or null once the tenant's rate limit let
   * a new turn through. The key is looked up again after the wait, and the
   * turn's start follows synchronously, so two concurrent retries still start
   * one turn. (An object with no thread yet has no keys to look up.)
   */
  async admit<T>(tenant: string, idem: IdempotencyKey | undefined): Promise<T | null> {
    const seen = () => (idem && this.p.life.thread() ? recall<T>(this.p.store, idem) : null);
    const first = seen();
    if (first) return first;
    await this.p.admit(tenant);
    return seen();
  }

  /** Runs a turn and answers when it has ended: the turn with its reply, or the error that failed it. */
  async run(body: TurnCreate, idem?: IdempotencyKey): Promise<TurnResult> {
    const seen = await this.admit<{ turn: number }>(this.p.life.required().tenant, idem);
    const seq = seen ? seen.turn : this.start(body, idem).turn;
    return this.result(seq);
  }

  /** Starts a turn (or finds the one an idempotent retry names) and streams its events as SSE until it ends. */
  async stream(body: TurnCreate, idem?: IdempotencyKey): Promise<ReadableStream<Uint8Array>> {
    const { store, turns } = this.p;
    const seen = await this.admit<{ turn: number; after: number }>(this.p.life.required().tenant, idem);
    const { turn: seq, after } = seen ?? this.start(body, idem);
    const turnId = turnShape(this.p.life.required(), store.turn(seq)!).id;
    const stream = followEvents(this.p.events, {
      after,
      filter: (e) => turnOfEvent(e) === turnId,
      until: isTurnEnd,
      idle: () => turns.whenDone(seq) === null && store.turn(seq)?.status !== "queued",
    });
    if (!stream) throw new BadRequestError("This turn's events are no longer kept; read its result with GET …/turns/{turn_id}.", null, "resume_window_expired");
    return stream;
  }

  /** The thread's events after `after` as SSE, following live events until no turn is queued or running. */
  events(after: number | null): ReadableStream<Uint8Array> {
    const { events, turns } = this.p;
    this.p.life.required();
    const from = after ?? events.lastSeq();
    const stream = followEvents(events, {
      after: from,
      // Replayed turn ends are history; the stream ends at the live end of the last turn.
      until: (e, live) => live && isTurnEnd(e) && turns.pendingCount <= 1,
      idle: () => !turns.busy,
    });
    if (!stream) {
      throw new BadRequestError(`Events after ${from} are no longer kept; list the messages and join live without 'after'.`, "after", "resume_window_expired");
    }
    return stream;
  }

  get(id: string): Turn {
    const { t, row } = this.rowOf(id);
    return turnShape(t, row);
  }

  /** Cancels a turn and answers with its final state; a finished turn is answered as it is. */
  async cancel(id: string): Promise<Turn> {
    await this.p.turns.cancel(this.rowOf(id).row.seq);
    return this.get(id);
  }

  /** A turn.create frame from a socket: its request_id is the idempotency key. */
  async fromSocket(frame: Extract<ClientFrame, { type: "turn.create" }>): Promise<Turn> {
    const { type: _, request_id, ...body } = frame;
    const idem = request_id ? { key: `ws:${request_id}`, hash: await bodyHash(body) } : undefined;
    const seen = await this.admit<{ turn: number }>(this.p.life.required().tenant, idem);
    const seq = seen ? seen.turn : this.start(body, idem).turn;
    return turnShape(this.p.life.required(), this.p.store.turn(seq)!);
  }

  /** The turn with its reply once it has ended; a failed turn throws the error it failed with. */
  async result(seq: number): Promise<TurnResult> {
    const running = this.p.turns.whenDone(seq);
    if (running) {
      const { result, error } = await running;
      if (error) throw error;
      return result;
    }
    const t = this.p.life.required();
    const row = this.p.store.turn(seq);
    if (!row) throw new NotFoundError("The turn no longer exists.");
    const turn = turnShape(t, row);
    if (turn.status === "failed" && turn.error) throw errorFromTurn(turn.error);
    const out = this.p.store.message(row.output_seq);
    return { ...turn, output: out ? messageShape(t, out) : null };
  }

  /** Starts a turn and records it under the idempotency key: `turn` is its seq, `after` the event seq before it. */
  start(body: TurnCreate, idem?: IdempotencyKey): { turn: number; after: number } {
    const after = this.p.events.lastSeq();
    const { turn, done } = this.p.turns.start(body);
    const seq = seqOf(turn.id, "turn", this.p.life.required().id_prefix)!;
    remember(this.p.store, idem, { turn: seq, after });
    // The turn goes on even if the caller goes away.
    this.p.ctx.waitUntil(done.catch(() => {}));
    return { turn: seq, after };
  }

  private rowOf(id: string): { t: ThreadRow; row: TurnRow } {
    const t = this.p.life.required();
    const row = resolveSeq(t, id, "turn", (seq) => this.p.store.turn(seq), () => new NotFoundError(`No turn found with id '${id}'.`, "turn_id"));
    return { t, row };
  }
}

/** The ApiError a stored turn error stands for, with the status its type implies. */
function errorFromTurn(e: NonNullable<Turn["error"]>): ApiError {
  const status = { invalid_request_error: 400, rate_limit_error: 429, conflict_error: 409, not_found_error: 404 }[e.type] ?? 502;
  return new ApiError(status, e.type, e.message, e.param, e.code);
}
