/** The chat page: wires the thread list, the transcript and the composer to the client library. */
import { ApiError, DurableThreads, type Message, type ServerFrame, type Thread, type ThreadSocket } from "../../src/client/index.ts";
import { ThreadList, titleOf } from "./threads.ts";
import { Transcript } from "./transcript.ts";

const KEY_STORAGE = "durable-threads.apiKey";
const PAGE = 50;
/** A focused tab re-reads the thread list at most this often (other tabs' and clients' changes show up then). */
const FOCUS_RELIST_MS = 30_000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const input = $<HTMLTextAreaElement>("message");
const stopButton = $<HTMLButtonElement>("stop");
const notice = $<HTMLParagraphElement>("notice");
const loadOlder = $<HTMLButtonElement>("load-older");
const titleEl = $<HTMLHeadingElement>("thread-title");
const keyForm = $<HTMLFormElement>("key-form");
const connection = $<HTMLSpanElement>("connection");

const client = new DurableThreads({ baseUrl: location.origin, apiKey: localStorage.getItem(KEY_STORAGE) ?? undefined });
const transcript = new Transcript($("messages"), $("transcript"), (_turnId, text) => void sendTurn(text));
const threads = new ThreadList($("thread-list"), $<HTMLButtonElement>("more-threads"), client, { open: (id) => void openThread(id), rename: renameThread, remove: deleteThread });

let threadId: string | null = null;
let socket: ThreadSocket | null = null;
let thread: Thread | null = null;
/** Turns of the open thread not yet ended, oldest first; Stop cancels the one in progress. */
const activeTurns = new Map<string, "queued" | "in_progress">();

function showNotice(text: string | null): void {
  notice.hidden = text === null;
  notice.textContent = text ?? "";
}

function fail(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) return askForKey(err.message);
  showNotice(err instanceof Error ? err.message : String(err));
}

function askForKey(reason?: string): void {
  keyForm.hidden = false;
  if (reason) $("key-reason").textContent = `${reason} The key is kept in this browser only (localStorage).`;
  $<HTMLInputElement>("api-key").focus();
}

function updateStop(): void {
  stopButton.disabled = activeTurns.size === 0;
}

function showThread(t: Thread | null): void {
  thread = t;
  titleEl.textContent = t ? titleOf(t) : "New chat";
  document.title = t ? `${titleOf(t)} · durable-threads` : "durable-threads";
  $("thread-actions").hidden = !t;
}

/** Opens a thread: its newest page arrives as the socket's snapshot; later events keep it live. */
async function openThread(id: string | null, push = true): Promise<void> {
  socket?.close();
  socket = null;
  threadId = id;
  activeTurns.clear();
  updateStop();
  transcript.clear();
  loadOlder.hidden = true;
  showNotice(null);
  if (push) history.pushState(null, "", id ? `/?thread=${encodeURIComponent(id)}` : "/");
  threads.render(id);
  showThread(null);
  if (!id) return;
  try {
    showThread(await client.retrieveThread(id));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return showNotice(`There is no thread “${id}”.`);
    return fail(err);
  }
  if (threadId !== id) return;
  const s = client.connect(id);
  socket = s;
  s.onStatus((status) => (connection.textContent = status === "open" ? "● live" : status === "connecting" ? "○ reconnecting…" : ""));
  s.onFrame((frame) => {
    if (socket === s) onFrame(frame);
  });
}

function onFrame(frame: ServerFrame): void {
  switch (frame.type) {
    case "thread.snapshot":
      transcript.clear();
      activeTurns.clear();
      for (const m of frame.messages) {
        transcript.upsert(m);
        if (m.status === "in_progress" && m.turn_id) activeTurns.set(m.turn_id, "in_progress");
      }
      showThread(frame.thread);
      loadOlder.hidden = !frame.has_more;
      transcript.scrollToBottom();
      void markUnansweredTurns(frame.messages, frame.thread.id).catch(() => {});
      break;
    case "message.created":
    case "message.completed":
      transcript.upsert(frame.message);
      break;
    case "message.delta":
      transcript.appendDelta(frame.message_id, frame.delta);
      break;
    case "message.deleted":
      transcript.remove(frame.message_id);
      break;
    case "turn.created":
      activeTurns.set(frame.turn.id, "queued");
      break;
    case "turn.started":
      activeTurns.set(frame.turn.id, "in_progress");
      break;
    case "turn.completed":
    case "turn.incomplete":
    case "turn.failed":
    case "turn.cancelled":
      activeTurns.delete(frame.turn.id);
      if (frame.type !== "turn.completed") transcript.markTurn(frame.turn);
      // The thread had activity: its entry moves first, as the listing orders it (no re-list).
      if (thread) threads.touch(thread, threadId);
      break;
    case "thread.updated":
      showThread(frame.thread);
      threads.touch(frame.thread, threadId);
      break;
    case "thread.deleted":
      showNotice("This thread was deleted.");
      threads.forget(frame.thread_id, null);
      break;
    case "error":
      showNotice(frame.error.message);
      break;
  }
  updateStop();
}

/**
 * A turn that failed before its first word left no reply message, so the
 * snapshot cannot show it: the newest few user messages without a reply have
 * their turn looked up, and a failed one is shown as such, with a retry.
 */
async function markUnansweredTurns(messages: Message[], id: string): Promise<void> {
  const answered = new Set(messages.filter((m) => m.role === "assistant").map((m) => m.turn_id));
  const unanswered = [...new Set(messages.filter((m) => m.role === "user" && m.turn_id && !answered.has(m.turn_id) && !activeTurns.has(m.turn_id))
    .map((m) => m.turn_id!))].slice(-5);
  for (const turnId of unanswered) {
    const turn = await client.retrieveTurn(id, turnId);
    if (threadId !== id) return;
    transcript.markTurn(turn);
  }
}

/** Sends a turn on the open thread, creating a thread first when none is open. */
async function sendTurn(text: string): Promise<void> {
  if (!text.trim()) return;
  showNotice(null);
  try {
    if (!threadId || !socket) {
      const t = await client.createThread({ metadata: { title: text.trim().slice(0, 60) } });
      await openThread(t.id);
      void threads.refresh(t.id).catch(() => {});
    }
    await socket!.send(text);
  } catch (err) {
    fail(err);
    throw err;
  }
}

async function loadOlderPage(): Promise<void> {
  const oldest = transcript.oldest();
  if (!threadId || !oldest) return;
  const scroller = $("transcript");
  const before = scroller.scrollHeight - scroller.scrollTop;
  // Newest first after the oldest shown: the next page back in time, never the whole history.
  const page = await client.listMessages(threadId, { order: "desc", after: oldest.id, limit: PAGE });
  for (const m of page.data) transcript.upsert(m);
  loadOlder.hidden = !page.has_more;
  scroller.scrollTop = scroller.scrollHeight - before;
}

function renameThread(t: Thread): void {
  const title = prompt("Rename thread", titleOf(t));
  if (title === null || !title.trim()) return;
  client.updateThread(t.id, { metadata: { ...t.metadata, title: title.trim().slice(0, 512) } })
    .then((updated) => {
      if (updated.id === threadId) showThread(updated);
      return threads.refresh(threadId);
    })
    .catch(fail);
}

function deleteThread(t: Thread): void {
  if (!confirm(`Delete “${titleOf(t)}” and all its messages?`)) return;
  client.deleteThread(t.id)
    .then(() => (t.id === threadId ? openThread(null) : undefined))
    .then(() => threads.refresh(threadId))
    .catch(fail);
}

async function boot(): Promise<void> {
  try {
    await threads.refresh(null);
  } catch (err) {
    return fail(err);
  }
  keyForm.hidden = true;
  await openThread(new URLSearchParams(location.search).get("thread"), false);
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  sendTurn(text).catch(() => {
    if (!input.value) input.value = text;
  });
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $<HTMLFormElement>("composer").requestSubmit();
  }
});
stopButton.addEventListener("click", () => {
  const running = [...activeTurns].find(([, s]) => s === "in_progress")?.[0] ?? [...activeTurns.keys()].at(-1);
  if (running && socket) socket.cancel(running).catch(fail);
});
$("new-chat").addEventListener("click", () => {
  void openThread(null);
  input.focus();
});
$("rename-thread").addEventListener("click", () => thread && renameThread(thread));
$("delete-thread").addEventListener("click", () => thread && deleteThread(thread));
loadOlder.addEventListener("click", () => void loadOlderPage().catch(fail));
keyForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const key = $<HTMLInputElement>("api-key").value.trim();
  localStorage.setItem(KEY_STORAGE, key);
  client.apiKey = key;
  void boot();
});
// The browser says the network is gone: the socket may not notice for a while (no FIN arrives), so it is
// dropped now and retried with backoff. Back online: reconnect at once rather than at the next backoff step.
// Either way the new connection resumes after the last seq seen.
addEventListener("offline", () => socket?.reconnect());
addEventListener("online", () => socket?.reconnect());
addEventListener("popstate", () => void openThread(new URLSearchParams(location.search).get("thread"), false));
addEventListener("focus", () => void threads.refreshIfStale(threadId, FOCUS_RELIST_MS).catch(() => {}));
$("more-threads").addEventListener("click", () => void threads.loadMore(threadId).catch(fail));

void boot();
