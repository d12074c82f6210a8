/**
 * One conversation: its SQLite history, its turns and its live listeners.
 * This class is only the surface the runtime and the Worker call (RPC methods,
 * the WebSocket upgrade and handlers, the alarm); each call is answered by a
 * module with one job: lifecycle, retention, messages, conversations, turn
 * calls, response calls, tickets and sockets, and the bot session.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { outcome, unwrap, type Outcome } from "../errors.ts";
import type { Conversation, ConversationCreate, AnyItem, MessageItemInput, ResponseCreate, ResponseObject } from "../protocol/openai.ts";
import type { ListQuery, MessageCreate, ThreadCreate, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";
import type { Deleted, List, Message, Thread, Turn, TurnResult } from "../protocol/types.ts";
import { assemble } from "./assemble.ts";
import type { Conversations } from "./conversations.ts";
import type { ForkedMessage, ForkSource } from "./fork.ts";
import type { IdempotencyKey } from "./idempotency.ts";
import type { Messages } from "./messages.ts";
import type { ThreadParts } from "./parts.ts";
import type { ResponseCalls } from "./respond.ts";
import type { ResponseMode } from "./responses.ts";
import { closeQuietly, handleFrame, upgrade } from "./sockets.ts";
import { issueTicket, takeTicket, type TicketIssued } from "./tickets.ts";
import type { TurnCalls } from "./turnCalls.ts";
import { botSessionFor, BotCommand, InboundMessage, type BotSession } from "../bots/session.ts";

export class ThreadObject extends DurableObject<Env> {
  private readonly p: ThreadParts;
  private readonly messages: Messages;
  private readonly conversations: Conversations;
  private readonly turnCalls: TurnCalls;
  private readonly responseCalls: ResponseCalls;
  /** The bot side (#11): platform messages become turns here, and their replies are sent from here. */
  private readonly bots: BotSession;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ({ parts: this.p, messages: this.messages, conversations: this.conversations, turnCalls: this.turnCalls,
      responseCalls: this.responseCalls } = assemble(ctx, env));
    this.bots = botSessionFor(this.p, this.turnCalls);
  }

  /** Creates the thread in this (empty) object; 409 if it already holds one, unless this is an idempotent retry. */
  async create(tenant: string, id: string, body: ThreadCreate, idem?: IdempotencyKey): Promise<Outcome<Thread>> {
    return outcome(async () => {
      if (this.p.life.insertThread(tenant, id, body, idem, false)) await this.p.retention.afterActivity(true);
      return this.messages.shape(this.p.life.required());
    });
  }

  /** What a fork of this thread up to `messageId` (default: everything) starts from; 400 if the message is not this thread's. */
  async forkSource(messageId?: string): Promise<Outcome<ForkSource>> {
    return outcome(() => this.messages.forkSource(messageId));
  }

  /** A page of this thread's own messages with seq in (after, upTo], oldest first, for a fork to copy. */
  async forkPage(after: number, upTo: number): Promise<Outcome<{ rows: ForkedMessage[]; last: number }>> {
    return outcome(() => this.messages.forkPage(after, upTo));
  }

  /** Creates this object's thread as a fork: `fresh` is false when an idempotent retry finds the fork already made. */
  async createFork(tenant: string, id: string, source: ForkSource, metadata: Record<string, string> | undefined, idem?: IdempotencyKey):
    Promise<Outcome<{ thread: Thread; fresh: boolean }>> {
    return outcome(() => this.messages.createFork(tenant, id, source, metadata, idem));
  }

  /** Appends a page of copied messages, in order, keeping their text, status, times and metadata. */
  async importPage(rows: ForkedMessage[]): Promise<Outcome<Thread>> {
    return outcome(() => this.messages.importPage(rows));
  }

  /** Creates a conversation (a thread) with its first items, in one write. */
  async createConversation(tenant: string, id: string, body: ConversationCreate, idem?: IdempotencyKey): Promise<Outcome<Conversation>> {
    return outcome(() => this.conversations.create(tenant, id, body, idem));
  }

  async getConversation(): Promise<Outcome<Conversation>> {
    return outcome(() => this.conversations.get());
  }

  /** Appends conversation items (at most 20, checked by the Worker); answers them as a list. */
  async addItems(items: MessageItemInput[], idem?: IdempotencyKey): Promise<Outcome<List<AnyItem>>> {
    return outcome(() => this.conversations.addItems(items, idem));
  }

  /** Conversation items, newest first by default. */
  async listItems(q: ListQuery): Promise<Outcome<List<AnyItem>>> {
    return outcome(() => this.conversations.listItems(q));
  }

  async getItem(id: string): Promise<Outcome<AnyItem>> {
    return outcome(() => this.conversations.getItem(id));
  }

  /** Deletes one item and answers with the conversation, as OpenAI does. */
  async deleteItem(id: string): Promise<Outcome<Conversation>> {
    return outcome(() => this.conversations.deleteItem(id));
  }

  /** Creates a response, in this conversation or in the chain of previous_response_id this object holds. */
  async respond(tenant: string, id: string, body: ResponseCreate, mode: ResponseMode, conversationId: string | null, idem?: IdempotencyKey):
    Promise<Outcome<ResponseObject | ReadableStream<Uint8Array>>> {
    return outcome(() => this.responseCalls.respond(tenant, id, body, mode, conversationId, idem));
  }

  async getResponse(turnId: string): Promise<Outcome<ResponseObject>> {
    return outcome(() => this.responseCalls.get(turnId));
  }

  /** Cancels a queued or running response; answers it as it ended. */
  async cancelResponse(turnId: string): Promise<Outcome<ResponseObject>> {
    return outcome(() => this.responseCalls.cancel(turnId));
  }

  /** A background response's events after sequence number `startingAfter`, followed until it ends. */
  async streamResponse(turnId: string, startingAfter: number): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => this.responseCalls.stream(turnId, startingAfter));
  }

  /** The item an item_reference names (any item of this object, chain or conversation), or null. */
  async referencedItem(id: string): Promise<Outcome<AnyItem | null>> {
    return outcome(() => this.responseCalls.item(id));
  }

  async deleteResponse(turnId: string): Promise<Outcome<{ id: string; object: "response"; deleted: true }>> {
    return outcome(() => this.responseCalls.delete(turnId));
  }

  /** The input items of a stored response, newest first by default. */
  async responseInputItems(turnId: string, q: ListQuery): Promise<Outcome<List<AnyItem>>> {
    return outcome(() => this.responseCalls.inputItems(turnId, q));
  }

  async get(): Promise<Outcome<Thread>> {
    return outcome(() => this.messages.shape(this.p.life.required()));
  }

  async update(body: ThreadUpdate): Promise<Outcome<Thread>> {
    return outcome(() => this.messages.updateThread(body));
  }

  /** Deletes the thread: turns are cancelled, sockets closed, and every byte of storage is wiped. */
  async delete(): Promise<Outcome<Deleted<"thread.deleted">>> {
    return outcome(() => this.p.life.wipe());
  }

  async listMessages(q: ListQuery): Promise<Outcome<List<Message>>> {
    return outcome(() => this.messages.list(this.p.life.required(), q));
  }

  /** Appends one message without running a turn. */
  async appendMessage(body: MessageCreate, idem?: IdempotencyKey): Promise<Outcome<Message>> {
    return outcome(() => this.messages.append(body, idem));
  }

  async getMessage(id: string): Promise<Outcome<Message>> {
    return outcome(() => this.messages.get(id));
  }

  async deleteMessage(id: string): Promise<Outcome<Deleted<"thread.message.deleted">>> {
    return outcome(() => this.messages.delete(id));
  }

  /** A platform message from a bot webhook: written as a turn (once per message ID); the reply is sent from this object. */
  async botMessage(msg: InboundMessage): Promise<Outcome<{ accepted: boolean }>> {
    return outcome(() => this.bots.receive(InboundMessage.parse(msg)));
  }

  /** A bot's slash command (`/new` ends the session, deleting the thread); answered in the chat after the webhook has answered. */
  async botCommand(cmd: BotCommand): Promise<Outcome<null>> {
    return outcome(async () => {
      await this.bots.command(BotCommand.parse(cmd));
      return null;
    });
  }

  /** Runs a turn and answers when it has ended: the turn with its reply, or the error that failed it. */
  async runTurn(body: TurnCreate, idem?: IdempotencyKey): Promise<Outcome<TurnResult>> {
    return outcome(() => this.turnCalls.run(body, idem));
  }

  /** Starts a turn (or finds the one an idempotent retry names) and streams its events as SSE until it ends. */
  async streamTurn(body: TurnCreate, idem?: IdempotencyKey): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => this.turnCalls.stream(body, idem));
  }

  /** The thread's events after `after` as SSE, following live events until no turn is queued or running. */
  async streamEvents(after: number | null): Promise<Outcome<ReadableStream<Uint8Array>>> {
    return outcome(() => this.turnCalls.events(after));
  }

  async getTurn(id: string): Promise<Outcome<Turn>> {
    return outcome(() => this.turnCalls.get(id));
  }

  /** Cancels a turn and answers with its final state; a finished turn is answered as it is. */
  async cancelTurn(id: string): Promise<Outcome<Turn>> {
    return outcome(() => this.turnCalls.cancel(id));
  }

  /** A single-use WebSocket ticket for this thread, valid for TICKET_TTL_MS. */
  async issueTicket(): Promise<Outcome<TicketIssued>> {
    return outcome(() => issueTicket(this.env, this.p.store, this.p.life.required()));
  }

  /** WebSocket upgrade for /v1/threads/{id}/ws (the Worker has checked the route and the caller). */
  override async fetch(req: Request): Promise<Response> {
    return upgrade(this.ctx, req, this.p.life.thread(), {
      take: (ticket) => takeTicket(this.p.store, ticket),
      replay: (after) => this.p.events.replay(after),
      snapshot: (t) => this.messages.snapshot(t),
    });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await handleFrame(ws, message, {
      startTurn: (frame) => this.turnCalls.fromSocket(frame),
      cancelTurn: async (turnId) => unwrap(await this.cancelTurn(turnId)),
    });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "socket error");
  }

  /** Prunes the resume buffer and idempotency keys, and deletes the thread once it has expired. */
  override async alarm(): Promise<void> {
    // Replies a restart cut off are sent (or a short notice is) from here, first: while they
    // are owed, retention keeps the heartbeat and does not delete an expired thread.
    await this.bots.resume();
    await this.p.retention.alarm();
  }
}
