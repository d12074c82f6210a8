/** The Responses API calls of a thread object: which chain or conversation a request lands in, and the stored responses. */
import { BadRequestError, NotFoundError } from "../errors.ts";
import type { AnyItem, ResponseCreate, ResponseObject } from "../protocol/openai.ts";
import type { ListQuery } from "../protocol/schemas.ts";
import type { List } from "../protocol/types.ts";
import { itemsFromRow, itemsPage } from "./conversations.ts";
import type { IdempotencyKey } from "./idempotency.ts";
import type { ThreadParts } from "./parts.ts";
import { ephemeralWithoutHistory, type ResponseMode, type Responses } from "./responses.ts";
import { seqOf } from "./shapes.ts";
import type { TurnCalls } from "./turnCalls.ts";

export class ResponseCalls {
  constructor(private readonly p: ThreadParts, private readonly responses: Responses, private readonly turnCalls: TurnCalls) {}

  /**
   * Creates a response. In conversation mode this object is the conversation;
   * in chain mode it holds the chain of previous_response_id (a new chain
   * creates it, hidden from thread listings).
   */
  async respond(tenant: string, id: string, body: ResponseCreate, mode: ResponseMode, conversationId: string | null, idem?: IdempotencyKey):
    Promise<ResponseObject | ReadableStream<Uint8Array>> {
    const { life, retention, settings } = this.p;
    // store:false keeps nothing, not even its idempotency key.
    const key = body.store === false ? undefined : idem;
    const seen = await this.turnCalls.admit<{ turn: number }>(tenant, key);
    if (seen) return this.responses.replay(seen.turn, !!body.stream);
    if (mode.kind === "chain" && mode.previousTurnId === null && !life.thread()) {
      // store:false must write nothing, so a new chain only gets a thread when it is stored;
      // and a refused request (bad input, too long) must not leave that thread behind.
      if (body.store === false) {
        return ephemeralWithoutHistory(this.p.upstream(), settings, body);
      }
      const pending = await life.createAtomically(() => {
        life.insertThread(tenant, id, { model: body.model }, undefined, true);
        return this.responses.create(body, mode, conversationId, key);
      });
      const result = await pending;
      await retention.afterActivity();
      return result;
    }
    if (mode.kind === "conversation" && !life.thread()) {
      throw new NotFoundError(`Conversation with id '${id}' not found.`, "conversation");
    }
    if (mode.kind === "chain" && !life.thread()) {
      throw new BadRequestError("Previous response not found.", "previous_response_id");
    }
    const result = await this.responses.create(body, mode, conversationId, key);
    if (body.store !== false) await retention.afterActivity();
    return result;
  }

  get(turnId: string): ResponseObject {
    return this.orNotFound().retrieve(turnId);
  }

  cancel(turnId: string): Promise<ResponseObject> {
    return this.orNotFound().cancel(turnId);
  }

  stream(turnId: string, startingAfter: number): ReadableStream<Uint8Array> {
    return this.orNotFound().streamStored(turnId, startingAfter);
  }

  /** The item an ID names in this object (a message of any chain or of the conversation), or null. */
  item(id: string): AnyItem | null {
    const t = this.p.life.thread();
    if (!t) return null;
    const seq = seqOf(id, "msg", t.id_prefix);
    const row = seq === null ? null : this.p.store.message(seq);
    // A reply's reasoning item is among its output (the AI SDK sends it back by reference), never among listed items.
    return row ? itemsFromRow(t, row, true).find((i) => i.id === id) ?? null : null;
  }

  delete(turnId: string): { id: string; object: "response"; deleted: true } {
    return this.orNotFound().delete(turnId);
  }

  /** The input items of a stored response, newest first by default. */
  inputItems(turnId: string, q: ListQuery): List<AnyItem> {
    const t = this.p.life.required();
    this.orNotFound().retrieve(turnId);
    const turn = this.p.store.turn(seqOf(turnId, "turn", t.id_prefix)!)!;
    // A branch response's input is not the thread's own, so branch rows are included here.
    return itemsPage(this.p, t, q, { above: turn.input_first - 1, below: turn.input_last + 1 });
  }

  private orNotFound(): Responses {
    if (!this.p.life.thread()) throw new NotFoundError("Response not found.", "response_id");
    return this.responses;
  }
}
