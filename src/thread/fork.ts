/** Forking: a new thread with a copy of another's history, moved page by page between the two objects. */
import type { MessageRow } from "./store.ts";

/** Messages copied per RPC page: bounded memory whatever the history's length. */
export const FORK_PAGE = 200;

/** What a fork copies of a message (its turn does not come along: the fork has no turns yet). */
export type ForkedMessage = Pick<MessageRow, "role" | "content" | "status" | "created_at" | "tokens" | "metadata" | "usage" | "extra">;

/** What the fork inherits from its source. */
export interface ForkSource {
  model: string;
  instructions: string | null;
  params: string;
  metadata: string;
  /** Copy messages with seq up to this one (inclusive). */
  upTo: number;
}
