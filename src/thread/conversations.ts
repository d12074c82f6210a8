/** A thread seen through OpenAI's Conversations API: the conversation, its items, in the shapes OpenAI gives them. */
import type { Conversation, ConversationCreate, MessageItem, MessageItemInput, OpenAIConversation } from "../protocol/openai.ts";
import type { ListQuery } from "../protocol/schemas.ts";
import { listOf, type List } from "../protocol/types.ts";
import { itemOf } from "../responses/shape.ts";
import { recall, remember, type IdempotencyKey } from "./idempotency.ts";
import { messageRow, type Messages } from "./messages.ts";
import { DEFAULT_LIMIT, page } from "./paging.ts";
import type { ThreadParts } from "./parts.ts";
import { itemRoleOf, messageShape } from "./shapes.ts";
import type { MessageRow, ThreadRow } from "./store.ts";
import type { MessageCreate } from "../protocol/schemas.ts";

/** A conversation is a thread seen through OpenAI's Conversations API. */
export function conversationShape(t: ThreadRow): Conversation {
  return { id: t.id, object: "conversation", created_at: t.created_at, metadata: JSON.parse(t.metadata) as Record<string, string> } satisfies OpenAIConversation;
}

/** A stored message as a conversation item (with the Responses role it was given). */
export function itemFromRow(t: ThreadRow, row: MessageRow): MessageItem {
  return itemOf({ ...messageShape(t, row), item_role: itemRoleOf(row) });
}

/** A Responses message item as the thread message it is stored as: developer becomes system, remembered in extra. */
export function messageFromItem(item: MessageItemInput): { message: MessageCreate; extra: string | null } {
  const content = typeof item.content === "string" ? item.content : item.content.map((p) => p.text).join("");
  if (item.role === "developer") return { message: { role: "system", content }, extra: JSON.stringify({ item_role: "developer" }) };
  return { message: { role: item.role, content }, extra: null };
}

/** A page of items, newest first by default; `within` narrows it to one response's input. */
export function itemsPage(p: Pick<ThreadParts, "store">, t: ThreadRow, q: ListQuery, within?: { above: number; below: number }): List<MessageItem> {
  return listOf(page(p.store, t, q, "desc", within).map((r) => itemFromRow(t, r)), q.limit ?? DEFAULT_LIMIT);
}

export class Conversations {
  constructor(private readonly p: ThreadParts, private readonly messages: Messages) {}

  /** Creates a conversation (a thread) with its first items, in one write. */
  async create(tenant: string, id: string, body: ConversationCreate, idem?: IdempotencyKey): Promise<Conversation> {
    const { life } = this.p;
    const items = (body.items ?? []).map(messageFromItem);
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
  async addItems(items: MessageItemInput[], idem?: IdempotencyKey): Promise<List<MessageItem>> {
    const { store } = this.p;
    const t = this.p.life.required();
    const seen = recall<{ first: number; last: number }>(store, idem);
    const rows = seen
      ? store.messagesPage({ above: seen.first - 1, below: seen.last + 1, order: "asc", limit: 100 })
      : this.messages.appendRows(t, items.map(messageFromItem));
    if (!seen && rows.length) remember(store, idem, { first: rows[0]!.seq, last: rows.at(-1)!.seq });
    if (!seen) await this.p.retention.afterActivity();
    return listOf(rows.map((r) => itemFromRow(t, r)), rows.length);
  }

  /** Conversation items, newest first by default. */
  listItems(q: ListQuery): List<MessageItem> {
    return itemsPage(this.p, this.p.life.required(), q);
  }

  getItem(id: string): MessageItem {
    const t = this.p.life.required();
    return itemFromRow(t, messageRow(this.p, t, id, "item_id"));
  }

  /** Deletes one item and answers with the conversation, as OpenAI does. */
  deleteItem(id: string): Conversation {
    const t = this.p.life.required();
    this.p.store.deleteMessage(messageRow(this.p, t, id, "item_id").seq);
    this.p.events.emit({ type: "message.deleted", message_id: id });
    return conversationShape(t);
  }
}
