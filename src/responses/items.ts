/**
 * Responses items ↔ thread messages. A message item is stored as a message
 * (developer as system, remembered as `item_role`); consecutive function_call
 * items as one assistant message with `tool_calls` (joined to the assistant
 * text before them); a function_call_output as a tool message; a reasoning item
 * sent back is dropped (reasoning never goes upstream). Image parts are kept as
 * chat `image_url` parts and given back as `input_image`.
 */
import type { ChatContent, ChatContentPart, InputItem, ItemReference } from "../protocol/content.ts";
import type { AnyItem, ItemContent, MessageItem, OutputItem } from "../protocol/openai.ts";
import type { MessageCreate } from "../protocol/schemas.ts";
import type { Message, ToolCall } from "../protocol/types.ts";
import { itemId } from "./ids.ts";

/** An input item as the message it is stored as, with the `extra` JSON stored beside it. */
export interface StoredItem {
  message: MessageCreate;
  extra: string | null;
}

/** Items with every item_reference already replaced by the item it names. */
export type ResolvedItem = Exclude<InputItem, ItemReference>;

type Part = Exclude<Extract<InputItem, { role: string }>["content"], string>[number];

/** The chat content of a list of Responses parts: a string if it is all text, else text and image_url parts. */
export function chatContentOf(parts: Part[] | string): ChatContent {
  if (typeof parts === "string") return parts;
  const chat = parts.map((p): ChatContentPart => p.type === "input_image"
    ? { type: "image_url", image_url: { url: p.image_url, detail: p.detail === "original" ? "high" : p.detail } }
    // (input_file never gets here: the schema refuses it.)
    : { type: "text", text: p.type === "refusal" ? p.refusal : p.type === "input_file" ? "" : p.text });
  return chat.some((p) => p.type === "image_url") ? chat : chat.map((p) => (p.type === "text" ? p.text : "")).join("");
}

/** The messages a request's input items are stored as, in order. */
export function messagesOfItems(items: ResolvedItem[]): StoredItem[] {
  const out: StoredItem[] = [];
  for (const item of items) {
    if (item.type === "reasoning") continue;
    if (item.type === "function_call") {
      const call: ToolCall = { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
      const last = out.at(-1);
      // Parallel calls (and the text before them) are one assistant message, as the model sent them.
      if (last && last.message.role === "assistant" && !last.extra?.includes('"item_role"')) {
        last.message.tool_calls = [...(last.message.tool_calls ?? []), call];
        last.extra = JSON.stringify({ tool_calls: last.message.tool_calls });
      } else {
        out.push({ message: { role: "assistant", content: "", tool_calls: [call] }, extra: JSON.stringify({ tool_calls: [call] }) });
      }
      continue;
    }
    if (item.type === "function_call_output") {
      const content = typeof item.output === "string" ? item.output : chatContentOf(item.output);
      out.push({ message: { role: "tool", content, tool_call_id: item.call_id }, extra: JSON.stringify({ tool_call_id: item.call_id }) });
      continue;
    }
    if (!("role" in item)) continue;
    const content = chatContentOf(item.content);
    if (item.role === "developer") out.push({ message: { role: "system", content }, extra: JSON.stringify({ item_role: "developer" }) });
    else out.push({ message: { role: item.role, content }, extra: null });
  }
  return out;
}

/** The Responses parts of a stored content (text becomes input_text or output_text). */
function partsOf(c: ChatContent, textType: "input_text" | "output_text"): ItemContent[] {
  const text = (t: string): ItemContent => textType === "output_text"
    ? { type: "output_text", text: t, annotations: [], logprobs: [] } : { type: "input_text", text: t };
  if (typeof c === "string") return [text(c)];
  return c.map((p) => (p.type === "text" ? text(p.text) : { type: "input_image", image_url: p.image_url.url, detail: p.image_url.detail ?? "auto" }));
}

const itemStatus = (s: Message["status"]) => (s === "failed" ? "incomplete" : s);

/**
 * The items a stored message is, in order: a tool message is a
 * function_call_output; an assistant message is its reasoning (when
 * `withReasoning`), its text (if any, or if it has no calls) and one
 * function_call per call; any other message is one message item.
 */
export function itemsOfMessage(threadId: string, m: Message, opts: { itemRole?: string; reasoning?: string; withReasoning?: boolean } = {}): AnyItem[] {
  const status = itemStatus(m.status);
  if (m.role === "tool") {
    const output = typeof m.content === "string" ? m.content : partsOf(m.content, "input_text") as Exclude<ItemContent, { type: "output_text" }>[];
    return [{ type: "function_call_output", id: itemId("fco", threadId, m.id), call_id: m.tool_call_id ?? "", output, status }];
  }
  const role = (opts.itemRole ?? m.role) as MessageItem["role"];
  if (role !== "assistant") return [{ type: "message", id: itemId("msg", threadId, m.id), status, role, content: partsOf(m.content, "input_text") }];
  const items: AnyItem[] = [];
  if (opts.withReasoning && opts.reasoning) {
    items.push({ type: "reasoning", id: itemId("rs", threadId, m.id), summary: [], content: [{ type: "reasoning_text", text: opts.reasoning }], status });
  }
  const calls = m.tool_calls ?? [];
  if (calls.length === 0 || (typeof m.content === "string" ? m.content !== "" : m.content.length > 0)) {
    items.push({ type: "message", id: itemId("msg", threadId, m.id), status, role: "assistant", content: partsOf(m.content, "output_text") });
  }
  calls.forEach((c, i) => items.push({ type: "function_call", id: itemId("fc", threadId, m.id, i), call_id: c.id, name: c.function.name, arguments: c.function.arguments, status }));
  return items;
}

/** The items of a reply, as a response's output. */
export function outputOf(threadId: string, reply: Message, reasoning?: string): OutputItem[] {
  return itemsOfMessage(threadId, reply, { reasoning, withReasoning: true }) as OutputItem[];
}

/** The input item an item_reference stands for, rebuilt from the item the owner returned. */
export function asInputItem(item: AnyItem): InputItem | null {
  switch (item.type) {
    case "function_call":
      return { type: "function_call", call_id: item.call_id, name: item.name, arguments: item.arguments };
    case "function_call_output":
      return { type: "function_call_output", call_id: item.call_id, output: item.output };
    case "message":
      return { type: "message", role: item.role, content: item.content.map((p) => (p.type === "output_text" ? { type: "output_text" as const, text: p.text } : p)) } as InputItem;
    case "reasoning":
      // Accepted as history and, as every reasoning input item, kept out of the prompt.
      return { type: "reasoning", id: item.id, summary: item.summary, content: item.content };
    default:
      return null;
  }
}
