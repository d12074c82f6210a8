/**
 * Responses streaming: the event names and shapes OpenAI's spec gives
 * (ResponseStreamEvent), each with its sequence_number. Items are announced
 * when their first fragment arrives, so a reply that fails before its first
 * token announces no empty item: reasoning (response.reasoning_text.*), the
 * text (response.output_text.*), and each function call
 * (response.function_call_arguments.*), in the order they come.
 */
import type { FunctionCallOutItem, OutputItem, ResponseObject } from "../protocol/openai.ts";

const enc = new TextEncoder();

type Kind = "reasoning" | "message" | "function_call";

interface OpenItem {
  kind: Kind;
  id: string;
  index: number;
  text: string;
  call?: { call_id: string; name: string };
}

/** The IDs of a reply's items: `rs`, `msg`, and `fc` with the call's index (responses/ids.ts itemId). */
export type ItemIds = (kind: "rs" | "msg" | "fc", index?: number) => string;

/** Writes one response's stream: created → items as their fragments come → done events → completed/incomplete/failed. */
export class ResponseEventWriter {
  private seq = 0;
  private outputs = 0;
  private readonly open = new Map<string, OpenItem>();

  /** Events numbered up to `startingAfter` are counted but not written (a stream resumed with starting_after). */
  constructor(private readonly write: (bytes: Uint8Array) => void, private readonly ids: ItemIds, private readonly startingAfter = -1) {}

  private send(type: string, payload: object): void {
    if (this.seq <= this.startingAfter) {
      this.seq++;
      return;
    }
    this.write(enc.encode(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...payload })}\n\n`));
  }

  /** response.created, then response.in_progress, or response.queued for a background response that waits. */
  created(response: ResponseObject): void {
    const { usage: _, ...r } = response;
    this.send("response.created", { response: r });
    if (r.status === "queued") this.send("response.queued", { response: r });
    else this.started(response);
  }

  /** response.in_progress: the response has started (a queued one, when its turn starts). */
  started(response: ResponseObject): void {
    const { usage: _, ...r } = response;
    this.send("response.in_progress", { response: { ...r, status: "in_progress" } });
  }

  /** The item `id`, announced (and the items before it closed) the first time. */
  private item(kind: Kind, id: string, call?: OpenItem["call"]): OpenItem {
    let it = this.open.get(id);
    if (it) return it;
    for (const other of [...this.open.values()]) this.close(other, null, "completed");
    it = { kind, id, index: this.outputs++, text: "", call };
    this.open.set(id, it);
    const status = "in_progress" as const;
    if (kind === "reasoning") {
      this.send("response.output_item.added", { output_index: it.index, item: { type: "reasoning", id, summary: [], content: [], status } });
      this.send("response.content_part.added", { item_id: id, output_index: it.index, content_index: 0, part: { type: "reasoning_text", text: "" } });
    } else if (kind === "message") {
      this.send("response.output_item.added", { output_index: it.index, item: { type: "message", id, status, role: "assistant", content: [] } });
      this.send("response.content_part.added", { item_id: id, output_index: it.index, content_index: 0,
        part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
    } else {
      this.send("response.output_item.added", { output_index: it.index,
        item: { type: "function_call", id, call_id: call!.call_id, name: call!.name, arguments: "", status } });
    }
    return it;
  }

  reasoning(delta: string): void {
    const it = this.item("reasoning", this.ids("rs"));
    it.text += delta;
    this.send("response.reasoning_text.delta", { item_id: it.id, output_index: it.index, content_index: 0, delta });
  }

  delta(text: string): void {
    const it = this.item("message", this.ids("msg"));
    it.text += text;
    this.send("response.output_text.delta", { item_id: it.id, output_index: it.index, content_index: 0, delta: text, logprobs: [] });
  }

  toolDelta(index: number, callId: string, name: string, delta: string): void {
    const it = this.item("function_call", this.ids("fc", index), { call_id: callId, name });
    it.text += delta;
    this.send("response.function_call_arguments.delta", { item_id: it.id, output_index: it.index, delta });
  }

  /** Closes an item with its final form (from the finished response) or, without one, with what arrived. */
  private close(it: OpenItem, final: OutputItem | null, fallback: "completed" | "incomplete"): void {
    this.open.delete(it.id);
    const status = final?.status ?? fallback;
    const at = { item_id: it.id, output_index: it.index };
    if (it.kind === "reasoning") {
      const text = final?.type === "reasoning" ? final.content.map((c) => c.text).join("") : it.text;
      this.send("response.reasoning_text.done", { ...at, content_index: 0, text });
      this.send("response.content_part.done", { ...at, content_index: 0, part: { type: "reasoning_text", text } });
      this.send("response.output_item.done", { output_index: it.index,
        item: final ?? { type: "reasoning", id: it.id, summary: [], content: [{ type: "reasoning_text", text }], status } });
    } else if (it.kind === "message") {
      const text = final?.type === "message" ? final.content.map((c) => c.text).join("") : it.text;
      const part = { type: "output_text", text, annotations: [], logprobs: [] };
      this.send("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
      this.send("response.content_part.done", { ...at, content_index: 0, part });
      this.send("response.output_item.done", { output_index: it.index,
        item: final ?? { type: "message", id: it.id, status, role: "assistant", content: [part] } });
    } else {
      const args = final?.type === "function_call" ? final.arguments : it.text;
      this.send("response.function_call_arguments.done", { ...at, name: it.call!.name, arguments: args });
      const item: FunctionCallOutItem = final?.type === "function_call" ? final
        : { type: "function_call", id: it.id, call_id: it.call!.call_id, name: it.call!.name, arguments: args, status };
      this.send("response.output_item.done", { output_index: it.index, item });
    }
  }

  /** Closes the open items and ends with response.completed, .incomplete or .failed (carrying the whole response). */
  finished(response: ResponseObject): void {
    for (const it of [...this.open.values()]) {
      this.close(it, response.output.find((o) => o.id === it.id) ?? null, response.status === "completed" ? "completed" : "incomplete");
    }
    const type = response.status === "completed" ? "response.completed"
      : response.status === "incomplete" ? "response.incomplete" : "response.failed";
    this.send(type, { response });
  }

  /** The whole stream of a finished response, rebuilt from its output (an idempotent retry, a late reader). */
  replay(response: ResponseObject): void {
    for (const item of response.output) {
      if (item.type === "reasoning") this.reasoning(item.content.map((c) => c.text).join(""));
      else if (item.type === "message") this.delta(item.content.map((c) => c.text).join(""));
      else this.toolDelta(Number(/-(\d+)_/.exec(item.id)?.[1] ?? 0), item.call_id, item.name, item.arguments);
    }
    this.finished(response);
  }
}
