/** A thread seen through OpenAI's Conversations API: the conversation, its items, in the shapes OpenAI gives them. */
import { NotFoundError } from "../errors.ts";
import type { AnyItem, Conversation, ConversationCreate, MessageItemInput, OpenAIConversation } from "../protocol/openai.ts";
import type { ListQuery } from "../protocol/schemas.ts";
import { listOf, type List } from "../protocol/types.ts";
import { itemsOfMessage, messagesOfItems, type StoredItem } from "../responses/items.ts";
import { recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { messageRow, type Messages } from "./messages.ts";
import { DEFAULT_LIMIT, page } from "./paging.ts";
import type { ThreadParts } from "./parts.ts";
import { itemRoleOf, messageId, messageShape } from "./shapes.ts";
import type { MessageRow, ThreadRow } from "./store.ts";
import type { MessageCreate } from "../protocol/schemas.ts";

/** A conversation is a thread seen through OpenAI's Conversations API. */
export function conversationShape(t: ThreadRow): Conversation {
  return { id: t.id, object: "conversation", created_at: t.created_at, metadata: JSON.parse(t.metadata) as Record<string, string> } satisfies OpenAIConversation;
}

/** A stored message as conversation items (a message, or one per tool call, or a call's output); `withReasoning` adds a reply's reasoning item. */
export function itemsFromRow(t: ThreadRow, row: MessageRow, withReasoning = false): AnyItem[] {
  const reasoning = withReasoning && row.extra ? (JSON.parse(row.extra) as { reasoning?: string }).reasoning : undefined;
  return itemsOfMessage(t.id, messageShape(t, row), { itemRole: itemRoleOf(row), reasoning, withReasoning });
}

/** Conversation items as the messages they are stored as. */
export function messagesFromItems(items: MessageItemInput[]): StoredItem[] {
  return messagesOfItems(items);
}

/** A page of items, newest first by default; `within` narrows it to one response's input. */
export function itemsPage(p: Pick<ThreadParts, "store">, t: ThreadRow, q: ListQuery, within?: { above: number; below: number }): List<AnyItem> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const rows = page(p.store, t, q, "desc", within);
  // A page counts stored messages; a message that made several calls lists one item per call.
  const desc = (q.order ?? "desc") === "desc";
  const data = rows.slice(0, limit).flatMap((r) => (desc ? itemsFromRow(t, r).reverse() : itemsFromRow(t, r)));
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
}

export class Conversations {
  constructor(private readonly p: ThreadParts, private readonly messages: Messages) {}

  /** Creates a conversation (a thread) with its first items, in one write. */
  async create(tenant: string, id: string, body: ConversationCreate, idem?: IdempotencyKey): Promise<Conversation> {
    const { life } = this.p;
    const items = messagesFromItems(body.items ?? []);
    const created = await life.createAtomically(() => {
      if (!life.insertThread(tenant, id, { metadata: body.metadata ?? {}, expires_after: body.expires_after }, idem, false)) return false;
      this.messages.appendRows(life.required(), items);
      return true;
    });
    if (created) await this.p.retention.afterActivity(true);
    return conversationShape(life.required());
  }

  get(): Conversation {
    return conversationShape(this.p.life.required());
  }

  /** Appends conversation items (at most 20, checked by the Worker); answers them as a list. */
  async addItems(items: MessageItemInput[], idem?: IdempotencyKey): Promise<List<AnyItem>> {
    const { store } = this.p;
    const t = this.p.life.required();
    const seen = recall<{ first: number; last: number }>(store, idem);
    const rows = seen
      ? store.messagesPage({ above: seen.first - 1, below: seen.last + 1, order: "asc", limit: 100 })
      : this.messages.appendRows(t, messagesFromItems(items));
    if (!seen && rows.length) remember(store, idem, { first: rows[0]!.seq, last: rows.at(-1)!.seq });
    if (!seen) await this.p.retention.afterActivity();
    const data = rows.flatMap((r) => itemsFromRow(t, r));
    return listOf(data, data.length);
  }

  /** Conversation items, newest first by default. */
  listItems(q: ListQuery): List<AnyItem> {
    return itemsPage(this.p, this.p.life.required(), q);
  }

  /** One item by its ID (any of the IDs a message's items have). */
  getItem(id: string): AnyItem {
    const t = this.p.life.required();
    const items = itemsFromRow(t, messageRow(this.p, t, id, "item_id"));
    const item = items.find((i) => i.id === id) ?? (items.length === 1 || !/^(fc|fco|rs)_/.test(id) ? items[0] : undefined);
    if (!item) throw new NotFoundError(`No item found with id '${id}'.`, "item_id");
    return item;
  }

  /** Deletes one item and answers with the conversation, as OpenAI does. */
  deleteItem(id: string): Conversation {
    const t = this.p.life.required();
    const { seq } = messageRow(this.p, t, id, "item_id");
    this.p.store.deleteMessage(seq);
    // The event names the thread message (an item ID adds a routing suffix to it).
    this.p.events.emit({ type: "message.deleted", message_id: messageId(t.id_prefix, seq) });
    return conversationShape(t);
  }
}
