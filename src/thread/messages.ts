/** A thread's own messages: append (one write, announced), list, read, delete, the pages a fork copies, the socket snapshot, and the thread's settings update. */
import { NotFoundError } from "../errors.ts";
import type { ListQuery, MessageCreate, ThreadCreate, ThreadUpdate } from "../protocol/schemas.ts";
import { listOf, type Deleted, type List, type Message, type ServerFrame, type Thread } from "../protocol/types.ts";
import { FORK_PAGE, type ForkedMessage, type ForkSource } from "./fork.ts";
import { recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { DEFAULT_LIMIT, page, resolveSeq } from "./paging.ts";
import type { ThreadParts } from "./parts.ts";
import { messageId, messageShape, threadShape } from "./shapes.ts";
import type { MessageRow, ThreadRow } from "./store.ts";
import { checkContentSize, extraOf, sentMessageRow } from "./content.ts";
import { checkToolInput, recentToolWindow } from "./toolcalls.ts";
import { snapshotFrame, SNAPSHOT_MESSAGES } from "./sockets.ts";

const now = () => Math.floor(Date.now() / 1000);

/** The stored message an ID of this thread names; 404 (naming `param`) otherwise. */
export function messageRow(p: Pick<ThreadParts, "store">, t: ThreadRow, id: string, param = "message_id"): MessageRow {
  return resolveSeq(t, id, "msg", (seq) => p.store.message(seq),
    () => new NotFoundError(`No ${param === "item_id" ? "item" : "message"} found with id '${id}'.`, param));
}

export class Messages {
  constructor(private readonly p: ThreadParts) {}

  /** The thread as the API shows it. */
  shape(t: ThreadRow): Thread {
    return threadShape(t, this.p.turns.busy);
  }

  /** Updates the thread's settings, announces thread.updated and refreshes its expiry and listing. */
  async updateThread(body: ThreadUpdate): Promise<Thread> {
    const { store, life } = this.p;
    life.required();
    store.updateThread({
      updated_at: now(),
      model: body.model,
      metadata: body.metadata === undefined ? undefined : JSON.stringify(body.metadata),
      params: body.params === undefined ? undefined : JSON.stringify(body.params),
    });
    if (body.instructions !== undefined) store.setNullable("instructions", body.instructions);
    if (body.expires_after !== undefined) store.setNullable("expires_after", body.expires_after && JSON.stringify(body.expires_after));
    const thread = this.shape(life.required());
    this.p.events.emit({ type: "thread.updated", thread });
    await this.p.retention.afterActivity(true);
    return thread;
  }

  /** A socket's first frame: the thread and its newest page of messages only, never the whole history. */
  snapshot(t: ThreadRow): ServerFrame {
    const newest = this.list(t, { order: "desc", limit: SNAPSHOT_MESSAGES });
    newest.data.reverse();
    return snapshotFrame(this.shape(t), newest, this.p.events.lastSeq());
  }

  /** Appends messages (no turn) in one synchronous write, each announced with message.created. */
  appendRows(t: ThreadRow, items: { message: MessageCreate; extra: string | null }[]): MessageRow[] {
    const { store, events } = this.p;
    items.forEach((m, i) => checkContentSize(m.message.content, items.length === 1 ? "content" : `items[${i}].content`, this.p.settings.limits.contentBytes));
    if (items.length === 0) return [];
    const created_at = now();
    // Seqs, the count and the stamp in one write of the thread row; the rows and their events in one insert each.
    const { first } = store.reserve({ messages: items.length, turns: 0, counted: items.length, updated_at: created_at });
    const rows = items.map(({ message, extra }, i) => sentMessageRow(message, { seq: first + i, turn: null, created_at, extra }));
    store.insertCounted(rows);
    events.emitAll(rows.map((row) => ({ type: "message.created" as const, message: messageShape(t, row) })));
    return rows;
  }

  /** Appends one message without running a turn; an idempotent retry answers the message it made. */
  async append(body: MessageCreate, idem?: IdempotencyKey): Promise<Message> {
    const t = this.p.life.required();
    const seen = recall<{ seq: number }>(this.p.store, idem);
    if (seen) {
      const row = this.p.store.message(seen.seq);
      if (!row) throw new NotFoundError("The message this key created has since been deleted.", "message_id");
      return messageShape(t, row);
    }
    // The same checks as a turn's input: a tool message answers a call of the latest reply (400 otherwise),
    // and while its calls wait for results any other message is a 409 tool_outputs_pending.
    checkToolInput([body], recentToolWindow(this.p.store), { param: () => "tool_call_id" });
    const [row] = this.appendRows(t, [{ message: body, extra: extraOf(body) }]);
    remember(this.p.store, idem, { seq: row!.seq });
    await this.p.retention.afterActivity();
    return messageShape(t, row!);
  }

  /** A page of the thread's own messages, oldest first by default. */
  list(t: ThreadRow, q: ListQuery): List<Message> {
    return listOf(page(this.p.store, t, q, "asc").map((r) => messageShape(t, r)), q.limit ?? DEFAULT_LIMIT);
  }

  get(id: string): Message {
    const t = this.p.life.required();
    return messageShape(t, messageRow(this.p, t, id));
  }

  delete(id: string): Deleted<"thread.message.deleted"> {
    const t = this.p.life.required();
    const { seq } = messageRow(this.p, t, id);
    this.p.store.deleteMessage(seq);
    // The event names the message by its own ID, whichever of its IDs (message or item) was used.
    this.p.events.emit({ type: "message.deleted", message_id: messageId(t.id_prefix, seq) });
    return { id, object: "thread.message.deleted" as const, deleted: true as const };
  }

  /** What a fork of this thread up to `messageId` (default: everything) starts from; 400 if the message is not this thread's. */
  forkSource(messageId?: string): ForkSource {
    const t = this.p.life.required();
    let upTo = t.next_seq - 1;
    if (messageId !== undefined) upTo = messageRow(this.p, t, messageId, "message_id").seq;
    return { model: t.model, instructions: t.instructions, params: t.params, metadata: t.metadata, upTo };
  }

  /** A page of this thread's own messages with seq in (after, upTo], oldest first, for a fork to copy. */
  forkPage(after: number, upTo: number): { rows: ForkedMessage[]; last: number } {
    this.p.life.required();
    const rows = this.p.store.messagesPage({ above: after, below: upTo + 1, order: "asc", limit: FORK_PAGE - 1 });
    return {
      rows: rows.map(({ role, content, status, created_at, tokens, metadata, usage, extra }) =>
        ({ role, content, status, created_at, tokens, metadata, usage, extra })),
      last: rows.at(-1)?.seq ?? upTo,
    };
  }

  /** Creates this object's thread as a fork: `fresh` is false when an idempotent retry finds the fork already made. */
  createFork(tenant: string, id: string, source: ForkSource, metadata: Record<string, string> | undefined, idem?: IdempotencyKey):
    { thread: Thread; fresh: boolean } {
    const fresh = this.p.life.insertThread(tenant, id, {
      model: source.model, instructions: source.instructions,
      params: JSON.parse(source.params) as ThreadCreate["params"],
      metadata: metadata ?? (JSON.parse(source.metadata) as Record<string, string>),
    }, idem, false);
    return { thread: this.shape(this.p.life.required()), fresh };
  }

  /** Appends a page of copied messages, in order, keeping their text, status, times and metadata. */
  async importPage(rows: ForkedMessage[]): Promise<Thread> {
    this.p.life.required();
    if (rows.length) {
      // Copied messages are the fork's own: all counted; the fork's updated_at is left as it was created.
      const { first } = this.p.store.reserve({ messages: rows.length, turns: 0, counted: rows.length });
      this.p.store.insertCounted(rows.map((r, i) => ({ ...r, seq: first + i, turn: null })));
    }
    await this.p.retention.afterActivity();
    return this.shape(this.p.life.required());
  }
}
