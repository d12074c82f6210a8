/** The thread list (navigation "Threads"): the tenant's threads, newest activity first, each with rename and delete. */
import type { RestClient, Thread } from "../../src/client/index.ts";

/** A thread's display name: its `metadata.title`, else its ID. */
export function titleOf(thread: Pick<Thread, "id" | "metadata">): string {
  return thread.metadata.title || thread.id;
}

export interface ThreadListHandlers {
  open(id: string): void;
  rename(thread: Thread): void;
  remove(thread: Thread): void;
}

/** Renders the list from one page of GET /v1/threads (the newest 50). */
export class ThreadList {
  threads: Thread[] = [];

  constructor(private readonly list: HTMLElement, private readonly rest: RestClient, private readonly handlers: ThreadListHandlers) {}

  /** Fetches the newest page and redraws. */
  async refresh(currentId: string | null): Promise<void> {
    this.threads = (await this.rest.listThreads({ limit: 50 })).data;
    this.render(currentId);
  }

  /** Redraws from what is known, marking the open thread. */
  render(currentId: string | null): void {
    this.list.replaceChildren(...this.threads.map((t) => this.item(t, t.id === currentId)));
  }

  private item(thread: Thread, current: boolean): HTMLElement {
    const li = document.createElement("li");
    if (current) li.setAttribute("aria-current", "page");
    const link = document.createElement("a");
    link.href = `/?thread=${encodeURIComponent(thread.id)}`;
    link.textContent = titleOf(thread);
    link.addEventListener("click", (e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return; // a new tab is a new page
      e.preventDefault();
      this.handlers.open(thread.id);
    });
    const rename = document.createElement("button");
    rename.type = "button";
    rename.textContent = "✎";
    rename.setAttribute("aria-label", `Rename ${titleOf(thread)}`);
    rename.addEventListener("click", () => this.handlers.rename(thread));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", `Delete ${titleOf(thread)}`);
    remove.addEventListener("click", () => this.handlers.remove(thread));
    li.append(link, rename, remove);
    return li;
  }
}
