/** The transcript: one `article` per message in seq order, streamed text, and failed or incomplete turns with a retry. */
import type { Message, Turn } from "../../src/client/index.ts";
import { renderMarkdown } from "./markdown.ts";

const ROLE_NAMES: Record<Message["role"], string> = { user: "You", assistant: "Assistant", system: "System", tool: "Tool" };

interface Shown {
  message: Message;
  el: HTMLElement;
}

/** Keeps the DOM of the open thread's messages in step with its events. */
export class Transcript {
  private readonly shown = new Map<string, Shown>();
  private pendingRender = new Set<string>();
  private frame = 0;

  constructor(private readonly container: HTMLElement, private readonly scroller: HTMLElement,
    private readonly onRetry: (turnId: string | null, userText: string) => void) {}

  /** Empties the transcript (another thread, or a snapshot that replaces everything). */
  clear(): void {
    this.shown.clear();
    this.container.replaceChildren();
  }

  /** The oldest message shown (the cursor for loading older pages). */
  oldest(): Message | undefined {
    let oldest: Message | undefined;
    for (const { message } of this.shown.values()) if (!oldest || message.seq < oldest.seq) oldest = message;
    return oldest;
  }

  /** Adds or replaces a message, keeping seq order. */
  upsert(message: Message): void {
    const nearBottom = this.nearBottom();
    const existing = this.shown.get(message.id);
    if (existing) {
      existing.message = message;
      this.paint(existing);
    } else {
      const shown = { message, el: document.createElement("article") };
      this.shown.set(message.id, shown);
      this.paint(shown);
      const after = [...this.container.children].find((c) => Number((c as HTMLElement).dataset.seq) > message.seq);
      this.container.insertBefore(shown.el, after ?? null);
    }
    if (nearBottom) this.scrollToBottom();
  }

  /** Appends streamed text to a message being written. */
  appendDelta(messageId: string, delta: string): void {
    const shown = this.shown.get(messageId);
    if (!shown) return;
    shown.message = { ...shown.message, content: shown.message.content + delta, status: "in_progress" };
    // Markdown is re-rendered at most once per animation frame, however fast deltas come.
    this.pendingRender.add(messageId);
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        const nearBottom = this.nearBottom();
        for (const id of this.pendingRender) {
          const s = this.shown.get(id);
          if (s) this.paint(s);
        }
        this.pendingRender.clear();
        if (nearBottom) this.scrollToBottom();
      });
    }
  }

  /** Removes a deleted message. */
  remove(messageId: string): void {
    this.shown.get(messageId)?.el.remove();
    this.shown.delete(messageId);
  }

  /** Shows how a turn ended on its reply (failed or incomplete), with a retry. */
  markTurn(turn: Turn): void {
    const reply = this.shown.get(turn.output_message_id);
    if (reply) {
      // A reply that never got a word is not stored: only the in_progress placeholder shows it.
      if (reply.message.status === "in_progress") reply.message = { ...reply.message, status: turn.status === "failed" ? "failed" : "incomplete" };
      this.paint(reply, turn);
      return;
    }
    // The upstream failed before any text (seen after a reload): the notice goes under the input.
    const input = turn.input_message_ids.map((id) => this.shown.get(id)).at(-1);
    if (input && turn.status === "failed") this.paint(input, turn);
  }

  /** The text of the user message that started a turn (for a retry). */
  inputText(turn: Pick<Turn, "input_message_ids">): string {
    return turn.input_message_ids.map((id) => this.shown.get(id)?.message).filter((m) => m?.role === "user").map((m) => m!.content).join("\n");
  }

  scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private nearBottom(): boolean {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80;
  }

  private paint(shown: Shown, endedTurn?: Turn): void {
    const { message, el } = shown;
    el.className = message.role;
    el.dataset.seq = String(message.seq);
    el.dataset.messageId = message.id;
    el.dataset.status = message.status;
    el.setAttribute("aria-label", ROLE_NAMES[message.role]);
    const header = document.createElement("header");
    header.textContent = ROLE_NAMES[message.role];
    const content = document.createElement("div");
    content.className = "content";
    // User text is shown exactly as typed (textContent); model text is Markdown, rendered and sanitized.
    if (message.role === "user") content.textContent = textOf(message.content);
    else content.innerHTML = renderMarkdown(textOf(message.content));
    const parts: HTMLElement[] = [header, content];
    const failed = endedTurn?.status === "failed" || message.status === "failed";
    const incomplete = message.status === "incomplete" || endedTurn?.status === "incomplete" || endedTurn?.status === "cancelled";
    if ((failed || incomplete) && message.role !== "user" || endedTurn?.status === "failed") {
      const status = document.createElement("p");
      status.className = "turn-status";
      const label = document.createElement("span");
      label.textContent = failed
        ? `Failed${endedTurn?.error ? `: ${endedTurn.error.message}` : ""}`
        : "Incomplete (stopped before the end)";
      const retry = document.createElement("button");
      retry.type = "button";
      retry.textContent = "Retry";
      const turnId = endedTurn?.id ?? message.turn_id;
      retry.addEventListener("click", () => this.onRetry(turnId, endedTurn ? this.inputText(endedTurn) : this.inputBefore(message)));
      status.append(label, retry);
      parts.push(status);
    }
    el.replaceChildren(...parts);
  }

  /** The user message just before a reply (what its turn answered). */
  private inputBefore(reply: Message): string {
    let best: Message | undefined;
    for (const { message } of this.shown.values()) {
      if (message.role === "user" && message.seq < reply.seq && (!best || message.seq > best.seq)) best = message;
    }
    return best ? textOf(best.content) : "";
  }
}

/** A message's text: the string itself, or its text parts with each image shown as "[image]". */
function textOf(content: Message["content"]): string {
  if (typeof content === "string") return content;
  return content.map((part) => (part.type === "text" ? part.text : "[image]")).join("\n");
}
