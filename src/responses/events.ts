/** Responses streaming: the event names and shapes OpenAI's SDK reads, each with its sequence_number. */
import type { MessageItem, ResponseObject } from "../protocol/openai.ts";

const enc = new TextEncoder();

/** Writes one response's stream: created → item and part added → text deltas → done events → completed/failed. */
export class ResponseEventWriter {
  private seq = 0;
  private item: MessageItem | null = null;
  private text = "";

  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  private send(type: string, payload: object): void {
    this.write(enc.encode(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...payload })}\n\n`));
  }

  created(response: ResponseObject): void {
    this.send("response.created", { response });
    this.send("response.in_progress", { response: { ...response, status: "in_progress" } });
  }

  /** The reply item begins (empty, in progress). */
  itemAdded(itemId: string): void {
    this.item = { type: "message", id: itemId, status: "in_progress", role: "assistant", content: [] };
    this.send("response.output_item.added", { output_index: 0, item: this.item });
    this.send("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0,
      part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
  }

  delta(text: string): void {
    if (!this.item) return;
    this.text += text;
    this.send("response.output_text.delta", { item_id: this.item.id, output_index: 0, content_index: 0, delta: text, logprobs: [] });
  }

  /** Closes the item (if one began) and ends with response.completed, .incomplete or .failed. */
  finished(response: ResponseObject): void {
    if (this.item) {
      const item = response.output[0] ?? { ...this.item, status: "incomplete" as const, content: [{ type: "output_text" as const, text: this.text, annotations: [], logprobs: [] }] };
      const part = item.content[0] ?? { type: "output_text", text: this.text, annotations: [], logprobs: [] };
      this.send("response.output_text.done", { item_id: item.id, output_index: 0, content_index: 0, text: part.text, logprobs: [] });
      this.send("response.content_part.done", { item_id: item.id, output_index: 0, content_index: 0, part });
      this.send("response.output_item.done", { output_index: 0, item });
    }
    const type = response.status === "completed" ? "response.completed"
      : response.status === "incomplete" ? "response.incomplete" : "response.failed";
    this.send(type, { response });
  }
}
