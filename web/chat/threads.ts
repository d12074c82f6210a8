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

/** Threads per page of the list (the newest first; "More threads" pages on with `after`). */
const PAGE = 50;

/**
 * Renders the list from pages of GET /v1/threads. Listing costs a read of
 * every directory shard and then of each listed thread, so it is re-read only
 * when asked (the page's own create, rename, delete, and a throttled focus);
 * the open thread's entry is kept current from its socket's events instead.
 */
export class ThreadList {
  threads: Thread[] = [];
  private hasMore = false;
  private lastListedAt = 0;

  constructor(
    private readonly list: HTMLElement,
    private readonly more: HTMLButtonElement,
    private readonly rest: RestClient,
    private readonly handlers: ThreadListHandlers,
  ) {}

  /** Fetches the newest page and redraws. */
  async refresh(currentId: string | null): Promise<void> {
    this.lastListedAt = Date.now();
    const page = await this.rest.listThreads({ limit: PAGE });
    this.threads = page.data;
    this.hasMore = page.has_more;
    this.render(currentId);
  }

  /** Refreshes unless the list was read less than minIntervalMs ago (for focus, which can fire often). */
  async refreshIfStale(currentId: string | null, minIntervalMs: number): Promise<void> {
    if (Date.now() - this.lastListedAt < minIntervalMs) return;
    await this.refresh(currentId);
  }

  /** Appends the next page, after the last thread shown. */
  async loadMore(currentId: string | null): Promise<void> {
    const last = this.threads.at(-1);
    if (!last) return this.refresh(currentId);
    const page = await this.rest.listThreads({ limit: PAGE, after: last.id });
    const known = new Set(this.threads.map((t) => t.id));
    this.threads.push(...page.data.filter((t) => !known.has(t.id)));
    this.hasMore = page.has_more;
    this.render(currentId);
  }

  /** Puts a thread that just had activity (or was changed) first, without asking the server. */
  touch(thread: Thread, currentId: string | null): void {
    this.threads = [thread, ...this.threads.filter((t) => t.id !== thread.id)];
    this.render(currentId);
  }

  /** Drops a deleted thread from the list, without asking the server. */
  forget(id: string, currentId: string | null): void {
    this.threads = this.threads.filter((t) => t.id !== id);
    this.render(currentId);
  }

  /** Redraws from what is known, marking the open thread. */
  render(currentId: string | null): void {
    this.list.replaceChildren(...this.threads.map((t) => this.item(t, t.id === currentId)));
    this.more.hidden = !this.hasMore;
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
