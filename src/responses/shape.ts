/** Building OpenAI's Response object and message items from what a thread stores. */
import type { CheckedResponse, MessageItem, OpenAIMessage, OutputMessageItem, ResponseObject, ResponseRequest, ResponseStatus } from "../protocol/openai.ts";
import type { Message, Turn } from "../protocol/types.ts";

/** A stored message as a Responses/Conversations message item. */
export function itemOf(m: Pick<Message, "id" | "role" | "content" | "status"> & { item_role?: string }): MessageItem {
  const role = (m.item_role ?? (m.role === "tool" ? "user" : m.role)) as MessageItem["role"];
  if (role === "assistant") return outputItemOf(m);
  const status = m.status === "failed" ? "incomplete" : m.status;
  return { type: "message", id: m.id, status, role, content: [{ type: "input_text", text: m.content }] } satisfies OpenAIMessage;
}

/** A reply message as a response's output item: an assistant message of output text. */
export function outputItemOf(m: Pick<Message, "id" | "content" | "status">): OutputMessageItem {
  const status = m.status === "failed" ? "incomplete" : m.status;
  return { type: "message", id: m.id, status, role: "assistant",
    content: [{ type: "output_text", text: m.content, annotations: [], logprobs: [] }] } satisfies OpenAIMessage;
}

const STATUS: Record<Turn["status"], ResponseStatus> = {
  queued: "queued", in_progress: "in_progress", completed: "completed",
  incomplete: "incomplete", failed: "failed", cancelled: "cancelled",
};

/** The Response object for a turn, its request and its reply (if written yet). */
export function responseObject(id: string, turn: Pick<Turn, "status" | "model" | "usage" | "error" | "created_at">,
  req: ResponseRequest, reply: OutputMessageItem | null): ResponseObject {
  const text = reply?.content.map((c) => c.text).join("") ?? "";
  const usage = turn.usage
    ? {
        input_tokens: turn.usage.input_tokens, input_tokens_details: { cached_tokens: 0 },
        output_tokens: turn.usage.output_tokens, output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: turn.usage.input_tokens + turn.usage.output_tokens,
      }
    : null;
  return {
    id, object: "response", created_at: turn.created_at, status: STATUS[turn.status], background: false,
    error: turn.error ? { code: turn.error.code ?? turn.error.type, message: turn.error.message } : null,
    incomplete_details: turn.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: req.instructions, max_output_tokens: req.max_output_tokens, model: turn.model,
    output: reply ? [reply] : [], output_text: text, parallel_tool_calls: true,
    previous_response_id: req.previous_response_id, conversation: req.conversation ? { id: req.conversation } : null,
    store: req.store, temperature: req.temperature, top_p: req.top_p, text: { format: { type: "text" } },
    tool_choice: "auto", tools: [], truncation: "disabled", usage, metadata: req.metadata,
    ...(req.user ? { user: req.user } : {}),
  } satisfies CheckedResponse & ResponseObject;
}
