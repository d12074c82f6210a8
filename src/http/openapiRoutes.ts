/**
 * Every route the Worker serves, as the OpenAPI document describes it: method,
 * path, the zod schema its handler parses the body (or query) with, what it
 * answers and which errors it can give. A route added to the router needs an
 * entry here; test/http/openapi.test.ts fails until it has one.
 */
import type { z } from "zod";
import { ChatCompletionBody, EmbeddingBody } from "./passthrough.ts";
import { ConversationCreate, ConversationUpdate, ItemsCreate, ResponseCreate } from "../protocol/openai.ts";
import { ForkCreate, ListQuery, MessageCreate, ThreadCreate, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";
import * as S from "../protocol/shapes.ts";

export interface Operation {
  method: "get" | "post" | "delete";
  /** OpenAPI form: `/v1/threads/{id}`. */
  path: string;
  tag: "Threads" | "Messages" | "Turns" | "Live" | "Conversations" | "Responses" | "Pass-through" | "Bots" | "Meta";
  summary: string;
  description?: string;
  /** The schema the handler parses its JSON body with. */
  body?: z.ZodType;
  bodyExample?: unknown;
  /** The list query (limit, order, after, before). */
  list?: boolean;
  /** Extra query parameters, by name. */
  query?: Record<string, { description: string; schema: object }>;
  ok: { status: 200 | 201 | 101; description: string; schema?: z.ZodType; example?: unknown; sse?: string };
  errors: number[];
  /** Creates something: takes an Idempotency-Key. */
  idempotent?: boolean;
  /** No API key (its own authentication, or none). */
  public?: boolean;
}

const THREAD = { id: "thread_demo", object: "thread", created_at: 1764370000, updated_at: 1764370042, model: "@cf/meta/llama-3.1-8b-instruct",
  instructions: "You are a helpful assistant.", metadata: { title: "Demo" }, params: {}, message_count: 2,
  usage: { input_tokens: 31, output_tokens: 12 }, status: "idle", expires_after: null };
const MESSAGE = { id: "msg_k3x1", object: "thread.message", thread_id: "thread_demo", seq: 2, role: "assistant", content: "Hello, Ada!",
  status: "completed", turn_id: "turn_k3x1", created_at: 1764370042, metadata: {}, usage: { input_tokens: 31, output_tokens: 12 } };
const TURN = { id: "turn_k3x1", object: "thread.turn", thread_id: "thread_demo", status: "completed", input_message_ids: ["msg_k3x0"],
  output_message_id: "msg_k3x1", model: "@cf/meta/llama-3.1-8b-instruct", usage: { input_tokens: 31, output_tokens: 12 }, error: null,
  created_at: 1764370041, completed_at: 1764370042 };
const list = (data: unknown[]) => ({ object: "list", data, first_id: (data[0] as { id?: string })?.id ?? null, last_id: (data.at(-1) as { id?: string })?.id ?? null, has_more: false });

/** A route that reaches a Durable Object can also meet an overloaded one (503 object_overloaded). */
const THREAD_ERRORS = [400, 401, 404, 503];
const TURN_SSE = "`event:` the event type, `id:` the thread event seq, `data:` the JSON event (turn.created … message.delta … turn.completed).";

const threads: Operation[] = [
  { method: "post", path: "/v1/threads", tag: "Threads", summary: "Create a thread", body: ThreadCreate, idempotent: true,
    bodyExample: { id: "thread_demo", instructions: "You are a helpful assistant.", metadata: { title: "Demo" } },
    ok: { status: 201, description: "The new thread", schema: S.Thread, example: THREAD }, errors: [400, 401, 409, 413, 503] },
  { method: "get", path: "/v1/threads", tag: "Threads", summary: "List the tenant's threads, most recent activity first", list: true,
    ok: { status: 200, description: "A page of threads", schema: S.ThreadList, example: list([THREAD]) }, errors: [400, 401, 503] },
  { method: "get", path: "/v1/threads/{id}", tag: "Threads", summary: "Retrieve a thread",
    ok: { status: 200, description: "The thread", schema: S.Thread, example: THREAD }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/threads/{id}", tag: "Threads", summary: "Update a thread", body: ThreadUpdate,
    bodyExample: { metadata: { title: "Renamed" } },
    ok: { status: 200, description: "The updated thread", schema: S.Thread, example: THREAD }, errors: [...THREAD_ERRORS, 413] },
  { method: "delete", path: "/v1/threads/{id}", tag: "Threads", summary: "Delete a thread and all its storage",
    ok: { status: 200, description: "Deleted", schema: S.Deleted, example: { id: "thread_demo", object: "thread.deleted", deleted: true } }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/threads/{id}/fork", tag: "Threads", summary: "Fork a thread: a new thread with its history up to a message",
    body: ForkCreate, idempotent: true, bodyExample: { message_id: "msg_k3x1" },
    ok: { status: 201, description: "The new thread", schema: S.Thread, example: THREAD }, errors: [...THREAD_ERRORS, 409] },
];

const messages: Operation[] = [
  { method: "get", path: "/v1/threads/{id}/messages", tag: "Messages", summary: "List messages (oldest first by default)", list: true,
    ok: { status: 200, description: "A page of messages", schema: S.MessageList, example: list([MESSAGE]) }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/threads/{id}/messages", tag: "Messages", summary: "Append a message without a reply", body: MessageCreate,
    idempotent: true, bodyExample: { role: "user", content: "Remember: my name is Ada." },
    ok: { status: 201, description: "The stored message", schema: S.Message, example: MESSAGE }, errors: [...THREAD_ERRORS, 413] },
  { method: "get", path: "/v1/threads/{id}/messages/{message_id}", tag: "Messages", summary: "Retrieve a message",
    ok: { status: 200, description: "The message", schema: S.Message, example: MESSAGE }, errors: THREAD_ERRORS },
  { method: "delete", path: "/v1/threads/{id}/messages/{message_id}", tag: "Messages", summary: "Delete a message",
    ok: { status: 200, description: "Deleted", schema: S.Deleted, example: { id: "msg_k3x1", object: "thread.message.deleted", deleted: true } },
    errors: THREAD_ERRORS },
];

const turns: Operation[] = [
  { method: "post", path: "/v1/threads/{id}/turns", tag: "Turns", summary: "Run a turn: store the input, call the model, store the reply",
    description: "With `stream: true` the answer is Server-Sent Events; otherwise the finished turn with its `output` message.",
    body: TurnCreate, idempotent: true, bodyExample: { input: "What is my name?", stream: false },
    ok: { status: 200, description: "The finished turn and its reply", schema: S.TurnResult, example: { ...TURN, output: MESSAGE }, sse: TURN_SSE },
    errors: [...THREAD_ERRORS, 409, 413, 429, 502] },
  { method: "get", path: "/v1/threads/{id}/turns/{turn_id}", tag: "Turns", summary: "Retrieve a turn's state",
    ok: { status: 200, description: "The turn", schema: S.Turn, example: TURN }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/threads/{id}/turns/{turn_id}/cancel", tag: "Turns", summary: "Stop a turn; a partial reply is kept as incomplete",
    ok: { status: 200, description: "The turn's final state", schema: S.Turn, example: { ...TURN, status: "cancelled" } }, errors: THREAD_ERRORS },
];

const live: Operation[] = [
  { method: "get", path: "/v1/threads/{id}/events", tag: "Live", summary: "The thread's events as Server-Sent Events (join or resume)",
    query: { after: { description: "Replay the events after this seq (or send Last-Event-ID)", schema: { type: "integer", minimum: 0 } } },
    ok: { status: 200, description: "Event stream", sse: TURN_SSE }, errors: THREAD_ERRORS },
  { method: "get", path: "/v1/threads/{id}/ws", tag: "Live", summary: "The thread's WebSocket (snapshot or replay, then live events; turn.create, turn.cancel, ping)",
    query: {
      after: { description: "Replay the events after this seq instead of a snapshot", schema: { type: "integer", minimum: 0 } },
      ticket: { description: "A ticket from POST …/ws-tickets, for clients that cannot send headers (browsers)", schema: { type: "string" } },
    },
    ok: { status: 101, description: "Switching Protocols: JSON text frames follow" }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/threads/{id}/ws-tickets", tag: "Live", summary: "A single-use WebSocket ticket, valid for 60 seconds",
    ok: { status: 201, description: "The ticket", schema: S.WsTicket,
      example: { object: "thread.ws_ticket", ticket: "wst_eyJ0Ijoi….abc", expires_at: 1764370100, url: "/v1/threads/thread_demo/ws?ticket=wst_eyJ0Ijoi….abc" } },
    errors: THREAD_ERRORS },
];

const CONVERSATION = { id: "conv_demo", object: "conversation", created_at: 1764370000, metadata: {} };
const ITEM = { type: "message", id: "msg_k3x1", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Hello, Ada!", annotations: [] }] };

const conversations: Operation[] = [
  { method: "post", path: "/v1/conversations", tag: "Conversations", summary: "Create a conversation (a thread)", body: ConversationCreate, idempotent: true,
    bodyExample: { metadata: { user: "ada" }, items: [{ role: "user", content: "Hello!" }] },
    ok: { status: 200, description: "The conversation", schema: S.Conversation, example: CONVERSATION }, errors: [400, 401, 413, 503] },
  { method: "get", path: "/v1/conversations/{id}", tag: "Conversations", summary: "Retrieve a conversation",
    ok: { status: 200, description: "The conversation", schema: S.Conversation, example: CONVERSATION }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/conversations/{id}", tag: "Conversations", summary: "Update a conversation's metadata", body: ConversationUpdate,
    bodyExample: { metadata: { topic: "names" } },
    ok: { status: 200, description: "The conversation", schema: S.Conversation, example: CONVERSATION }, errors: THREAD_ERRORS },
  { method: "delete", path: "/v1/conversations/{id}", tag: "Conversations", summary: "Delete a conversation",
    ok: { status: 200, description: "Deleted", schema: S.Deleted, example: { id: "conv_demo", object: "conversation.deleted", deleted: true } },
    errors: THREAD_ERRORS },
  { method: "post", path: "/v1/conversations/{id}/items", tag: "Conversations", summary: "Add items", body: ItemsCreate, idempotent: true,
    bodyExample: { items: [{ role: "user", content: "And remember this." }] },
    ok: { status: 200, description: "The added items", schema: S.ItemList, example: list([ITEM]) }, errors: [...THREAD_ERRORS, 413] },
  { method: "get", path: "/v1/conversations/{id}/items", tag: "Conversations", summary: "List items (newest first by default)", list: true,
    ok: { status: 200, description: "A page of items", schema: S.ItemList, example: list([ITEM]) }, errors: THREAD_ERRORS },
  { method: "get", path: "/v1/conversations/{id}/items/{item_id}", tag: "Conversations", summary: "Retrieve an item",
    ok: { status: 200, description: "The item", schema: S.Item, example: ITEM }, errors: THREAD_ERRORS },
  { method: "delete", path: "/v1/conversations/{id}/items/{item_id}", tag: "Conversations", summary: "Delete an item",
    ok: { status: 200, description: "The conversation", schema: S.Conversation, example: CONVERSATION }, errors: THREAD_ERRORS },
];

const RESPONSE = { id: "resp_demo", object: "response", created_at: 1764370042, status: "completed", model: "@cf/meta/llama-3.1-8b-instruct",
  output: [ITEM], previous_response_id: null, conversation: { id: "conv_demo" }, usage: null, metadata: {} };

const responses: Operation[] = [
  { method: "post", path: "/v1/responses", tag: "Responses", summary: "Create a response (a turn), in a conversation or a chain",
    description: "With `stream: true` the answer is Server-Sent Events with the Responses event names.",
    body: ResponseCreate, idempotent: true, bodyExample: { conversation: "conv_demo", input: "What is my name?" },
    ok: { status: 200, description: "The response", schema: S.ResponseObject, example: RESPONSE, sse: "`response.created` … `response.output_text.delta` … `response.completed`" },
    errors: [400, 401, 404, 409, 413, 429, 502, 503] },
  { method: "get", path: "/v1/responses/{id}", tag: "Responses", summary: "Retrieve a stored response",
    description: "With `stream=true`, a background response's events are replayed after `starting_after` and followed live.",
    query: {
      stream: { description: "Replay and follow a background response's events as Server-Sent Events", schema: { type: "boolean" } },
      starting_after: { description: "With stream=true: the sequence number after which to start", schema: { type: "integer", minimum: 0 } },
    },
    ok: { status: 200, description: "The response", schema: S.ResponseObject, example: RESPONSE }, errors: THREAD_ERRORS },
  { method: "post", path: "/v1/responses/{id}/cancel", tag: "Responses", summary: "Cancel a running background response",
    ok: { status: 200, description: "The response, cancelled", schema: S.ResponseObject, example: { ...RESPONSE, status: "cancelled" } }, errors: THREAD_ERRORS },
  { method: "delete", path: "/v1/responses/{id}", tag: "Responses", summary: "Delete a stored response",
    ok: { status: 200, description: "Deleted", schema: S.Deleted, example: { id: "resp_demo", object: "response", deleted: true } }, errors: THREAD_ERRORS },
  { method: "get", path: "/v1/responses/{id}/input_items", tag: "Responses", summary: "A response's input items", list: true,
    ok: { status: 200, description: "A page of items", schema: S.ItemList, example: list([ITEM]) }, errors: THREAD_ERRORS },
];

const passThrough: Operation[] = [
  { method: "post", path: "/v1/chat/completions", tag: "Pass-through", summary: "Chat completions, passed to the upstream as sent (stateless)",
    body: ChatCompletionBody, bodyExample: { model: "@cf/meta/llama-3.1-8b-instruct", messages: [{ role: "user", content: "Hi" }] },
    ok: { status: 200, description: "The upstream's chat.completion (or chunk SSE with stream)", schema: S.Opaque,
      sse: "`chat.completion.chunk` frames, ending `data: [DONE]`" }, errors: [400, 401, 413, 429, 502, 503] },
  { method: "post", path: "/v1/embeddings", tag: "Pass-through", summary: "Embeddings, passed to the upstream as sent", body: EmbeddingBody,
    bodyExample: { model: "@cf/baai/bge-large-en-v1.5", input: ["hello"] },
    ok: { status: 200, description: "The upstream's embedding list", schema: S.Opaque }, errors: [400, 401, 413, 429, 502, 503] },
  { method: "get", path: "/v1/models", tag: "Pass-through", summary: "The models this deployment serves",
    ok: { status: 200, description: "Models", schema: S.ModelList,
      example: list([{ id: "@cf/meta/llama-3.1-8b-instruct", object: "model", created: 0, owned_by: "meta" }]) }, errors: [401] },
  { method: "get", path: "/v1/models/{model}", tag: "Pass-through", summary: "One model (its ID may contain slashes)",
    ok: { status: 200, description: "The model", schema: S.Model, example: { id: "@cf/meta/llama-3.1-8b-instruct", object: "model", created: 0, owned_by: "meta" } },
    errors: [401, 404] },
];

/** Bot webhooks: each platform authenticates with its own signature or secret, never an API key. */
const bots: Operation[] = (["telegram", "slack", "discord"] as const).map((platform) => ({
  method: "post" as const, path: `/webhooks/${platform}`, tag: "Bots" as const, public: true,
  summary: `${platform[0]!.toUpperCase()}${platform.slice(1)} webhook: one platform update, answered at once; the turn runs in the thread's object`,
  description: `The body is ${platform}'s own update payload, checked by ${platform}'s signature or secret, not an API key. 404 when this deployment has no ${platform} bot configured.`,
  body: S.Opaque,
  ok: { status: 200 as const, description: "Update accepted (a redelivered update is processed once)" },
  // 503: the update could not be stored (the platform delivers it again), or the thread's object is overloaded.
  errors: [401, 404, 503],
}));

const meta: Operation[] = [
  { method: "get", path: "/openapi.json", tag: "Meta", summary: "This document", public: true,
    ok: { status: 200, description: "OpenAPI 3.1", schema: S.Opaque }, errors: [] },
];

export const OPERATIONS: Operation[] = [...threads, ...messages, ...turns, ...live, ...conversations, ...responses, ...passThrough, ...bots, ...meta];

/** The list query every list endpoint takes, documented from the schema the handlers parse it with. */
export { ListQuery };
