/**
 * Zod schemas of message content with images, and of Responses input items
 * (messages with input_text / input_image / output_text parts, function_call,
 * function_call_output, item_reference, reasoning), with the mapping of
 * Responses parts to chat parts. Field sets follow OpenAI's spec
 * (InputMessageContentList, InputItem, FunctionCallOutputItemParam,
 * ItemReferenceParam, ReasoningItem); what the clients send is in test/e2e/CLIENTS.md.
 */
import { z } from "zod";
import { FunctionName } from "./tools.ts";
import { Text } from "./text.ts";

/** Image detail as chat accepts it; Responses adds "original" (sent upstream as "high"). */
export const ImageDetail = z.enum(["auto", "low", "high"]);
export const ResponsesImageDetail = z.enum(["auto", "low", "high", "original"]);

/**
 * An image URL a vision model can take: an https URL, or a base64 data URL of
 * PNG, JPEG, GIF or WebP. Size limits are the content limits (a 413), checked
 * where the message is measured, not here.
 */
export const ImageUrl = z.string().refine(
  (u) => /^https:\/\/[^\s]+$/i.test(u) || /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(u),
  "must be an https URL or a base64 data URL of a PNG, JPEG, GIF or WebP image",
);

// ---------------------------------------------------------------------------
// Chat Completions content

export const ChatTextPart = z.strictObject({ type: z.literal("text"), text: Text() });
export const ChatImagePart = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.strictObject({ url: ImageUrl, detail: ImageDetail.optional() }),
});
export const ChatContentPart = z.discriminatedUnion("type", [ChatTextPart, ChatImagePart]);
export type ChatContentPart = z.infer<typeof ChatContentPart>;

/** Message content: a string, or a non-empty list of text and image parts (user messages may hold images). */
export const ChatContent = z.union([Text(), z.array(ChatContentPart).min(1, "must not be empty")]);
export type ChatContent = z.infer<typeof ChatContent>;

// ---------------------------------------------------------------------------
// Responses content parts

export const InputTextPart = z.strictObject({ type: z.literal("input_text"), text: Text() });
/** `input_image`: an image by URL (`file_id` needs the Files API, which is not here: refused). */
export const InputImagePart = z.strictObject({
  type: z.literal("input_image"),
  image_url: ImageUrl,
  detail: ResponsesImageDetail.default("auto"),
});
export const OutputTextPart = z.strictObject({
  type: z.literal("output_text"),
  text: Text(),
  annotations: z.array(z.unknown()).optional(),
  logprobs: z.array(z.unknown()).optional(),
});
export const RefusalPart = z.strictObject({ type: z.literal("refusal"), refusal: Text() });

/** `input_file` needs OpenAI's Files API (or fetching files), which this server does not have: a clear 400. */
export const InputFilePart = z.looseObject({ type: z.literal("input_file") }).superRefine((_, ctx) => {
  ctx.addIssue({ code: "custom", message: "input_file parts are not supported here (there is no Files API): send the text as input_text, or an image as input_image" });
});

export const InputContentPart = z.discriminatedUnion("type", [InputTextPart, InputImagePart]);
export type InputContentPart = z.infer<typeof InputContentPart>;

// ---------------------------------------------------------------------------
// Responses input items

const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]);
const ItemId = z.string().min(1).max(256);
const CallId = z.string().min(1).max(64);

/**
 * A message item: EasyInputMessage (`{role, content}`, type optional, string or
 * parts) or a full message item sent back (with `id` and `status`). Assistant
 * content is output_text/refusal parts; other roles take input_text/input_image.
 */
export const MessageItem = z.strictObject({
  type: z.literal("message").optional(),
  id: ItemId.optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([Text(), z.array(z.discriminatedUnion("type", [InputTextPart, InputImagePart, OutputTextPart, RefusalPart, InputFilePart])).min(1, "must not be empty")]),
  status: ItemStatus.optional(),
  phase: z.enum(["commentary", "final_answer"]).nullable().optional(),
}).superRefine((m, ctx) => {
  if (typeof m.content === "string") return;
  const allowed = m.role === "assistant" ? ["output_text", "refusal"] : ["input_text", "input_image"];
  for (const [i, p] of m.content.entries()) {
    if (!allowed.includes(p.type)) ctx.addIssue({ code: "custom", path: ["content", i, "type"], message: `a ${m.role} message takes ${allowed.join(" or ")} parts` });
  }
});
export type MessageItem = z.infer<typeof MessageItem>;

/** A function call the model made, sent back as history (the server's own item, with its `id`, or a client's copy without). */
export const FunctionCallItem = z.strictObject({
  type: z.literal("function_call"),
  id: ItemId.optional(),
  call_id: CallId,
  name: FunctionName,
  arguments: z.string(),
  status: ItemStatus.optional(),
});
export type FunctionCallItem = z.infer<typeof FunctionCallItem>;

/** The result of a call: a string, or text/image parts. The Agents SDK adds `status: "completed"`. */
export const FunctionCallOutputItem = z.strictObject({
  type: z.literal("function_call_output"),
  id: ItemId.nullable().optional(),
  call_id: CallId,
  output: z.union([Text(), z.array(InputContentPart).min(1)]),
  status: ItemStatus.nullable().optional(),
});
export type FunctionCallOutputItem = z.infer<typeof FunctionCallOutputItem>;

/** A stored item named by ID (the AI SDK sends these for earlier replies, even with no chain). */
export const ItemReference = z.strictObject({
  type: z.literal("item_reference").nullable().optional(),
  id: ItemId,
});
export type ItemReference = z.infer<typeof ItemReference>;

/** A reasoning item sent back as history: accepted, and kept out of the prompt. */
export const ReasoningItem = z.strictObject({
  type: z.literal("reasoning"),
  id: ItemId,
  summary: z.array(z.strictObject({ type: z.literal("summary_text"), text: Text() })),
  content: z.array(z.strictObject({ type: z.literal("reasoning_text"), text: Text() })).optional(),
  encrypted_content: z.string().nullable().optional(),
  status: ItemStatus.optional(),
});
export type ReasoningItem = z.infer<typeof ReasoningItem>;

/**
 * One Responses input item. Typed items are told apart by `type`; an item
 * without `type` is a message if it has a `role`, else a reference.
 */
export const InputItem = z.union([FunctionCallItem, FunctionCallOutputItem, ReasoningItem, MessageItem, ItemReference]);
export type InputItem = z.infer<typeof InputItem>;

/** `input`: a string (one user message) or a list of items. */
export const ResponsesInput = z.union([Text(), z.array(InputItem)]);
export type ResponsesInput = z.infer<typeof ResponsesInput>;

/** The chat part for a Responses content part (images keep their URL; "original" detail becomes "high"). */
export function toChatPart(p: InputContentPart | z.infer<typeof OutputTextPart>): ChatContentPart {
  if (p.type !== "input_image") return { type: "text", text: p.text };
  return { type: "image_url", image_url: { url: p.image_url, detail: p.detail === "original" ? "high" : p.detail } };
}
