/**
 * A whole conversation over real HTTP: fetch → wrangler's dev server → the
 * Worker and its Durable Object in workerd → the openai SDK → the mock upstream
 * served by Node on 127.0.0.1. Asserts what a client sees and what the upstream received.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, openAiError, sseFrames, uniqueId, type Api, type SseFrame } from "./client.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "./harness.ts";

const INSTRUCTIONS = "You are a terse assistant. Answer in one line.";

let upstream: ServedMock;
let worker: RunningWorker;
let api: Api;

beforeAll(async () => {
  upstream = await serveMockUpstream();
  worker = await startWorker({ vars: mockUpstreamVars(upstream) });
  api = apiClient(worker.url);
});

afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
});

type Said = { role: string; content: string };

/** The role and content of each message the upstream was sent in its latest chat request. */
function lastPromptSent(): Said[] {
  const req = upstream.mock.chatRequests().at(-1);
  if (!req) throw new Error("the upstream received no chat request");
  return req.body.messages.map((m: Said) => ({ role: m.role, content: m.content }));
}

describe("a conversation through the native thread API", () => {
  const threadId = uniqueId("conv");
  /** What the client has seen stored, in order: the history the upstream must be sent. */
  const transcript: Said[] = [];
  const turnIds: string[] = [];
  let streamedTurnId = "";

  it("creates a thread with instructions", async () => {
    const r = await api("POST", "/v1/threads", { id: threadId, instructions: INSTRUCTIONS, metadata: { suite: "e2e" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: threadId, object: "thread", instructions: INSTRUCTIONS, metadata: { suite: "e2e" },
      message_count: 0, status: "idle" });
    expect((await api("POST", "/v1/threads", { id: threadId })).status).toBe(409);
  });

  it("runs non-streaming turns, each sending the instructions first, then exactly the history, then the new message", async () => {
    for (const input of ["Hello, who are you?", "What did I just ask?", "Thanks. Now count to three."]) {
      const before = upstream.mock.chatRequests().length;
      const r = await api("POST", `/v1/threads/${threadId}/turns`, { input });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(upstream.mock.chatRequests().length).toBe(before + 1);

      const expectedPrompt = [{ role: "system", content: INSTRUCTIONS }, ...transcript, { role: "user", content: input }];
      expect(lastPromptSent()).toEqual(expectedPrompt);
      const sent = upstream.mock.chatRequests().at(-1)!;
      expect(sent.headers.authorization).toBe("Bearer e2e-key");
      expect(sent.body.max_tokens).toBeGreaterThan(0);

      const turn = r.body;
      expect(turn).toMatchObject({ object: "thread.turn", thread_id: threadId, status: "completed", error: null });
      expect(turn.input_message_ids).toHaveLength(1);
      expect(turn.output).toMatchObject({ id: turn.output_message_id, role: "assistant", status: "completed", turn_id: turn.id,
        content: `echo(${expectedPrompt.length}): ${input}` });
      transcript.push({ role: "user", content: input }, { role: "assistant", content: turn.output.content });
      turnIds.push(turn.id);
    }
  });

  it("streams a turn as SSE frames with strictly increasing ids, delta by delta", async () => {
    upstream.mock.chunkDelayMs = 25;
    const input = "Please stream a few words back to me now";
    let frames: SseFrame[] = [];
    try {
      const res = await fetch(`${worker.url}/v1/threads/${threadId}/turns`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input, stream: true }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      for await (const frame of sseFrames(res.body!)) frames.push(frame);
    } finally {
      upstream.mock.chunkDelayMs = 0;
    }

    const types = frames.map((f) => f.event);
    expect(types.slice(0, 4)).toEqual(["turn.created", "message.created", "turn.started", "message.created"]);
    expect(types.slice(-2)).toEqual(["message.completed", "turn.completed"]);
    const deltas = frames.slice(4, -2);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.every((f) => f.event === "message.delta")).toBe(true);

    const ids = frames.map((f) => Number(f.id));
    ids.forEach((id, i) => {
      expect(Number.isInteger(id)).toBe(true);
      expect(frames[i]!.data.seq).toBe(id);
      expect(frames[i]!.data.type).toBe(frames[i]!.event);
      if (i > 0) expect(id).toBeGreaterThan(ids[i - 1]!);
    });

    const [created, userMsg, , placeholder] = frames;
    expect(userMsg!.data.message).toMatchObject({ role: "user", content: input, status: "completed" });
    expect(placeholder!.data.message).toMatchObject({ role: "assistant", status: "in_progress", content: "" });
    const completed = frames.at(-2)!.data.message;
    const expectedPrompt = [{ role: "system", content: INSTRUCTIONS }, ...transcript, { role: "user", content: input }];
    expect(completed).toMatchObject({ id: placeholder!.data.message.id, role: "assistant", status: "completed",
      content: `echo(${expectedPrompt.length}): ${input}` });
    expect(deltas.map((f) => f.data.delta).join("")).toBe(completed.content);
    expect(frames.at(-1)!.data.turn).toMatchObject({ id: created!.data.turn.id, status: "completed",
      output_message_id: completed.id });
    expect(lastPromptSent()).toEqual(expectedPrompt);

    // The upstream paced its chunks 25 ms apart; had anything on the way buffered the
    // stream, every frame would arrive at once.
    expect(frames.at(-1)!.at - deltas[0]!.at).toBeGreaterThan(100);

    streamedTurnId = created!.data.turn.id;
    turnIds.push(streamedTurnId);
    transcript.push({ role: "user", content: input }, { role: "assistant", content: completed.content });
  });

  it("lists the messages in order, page by page with limit and after", async () => {
    const seen: any[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await api("GET", `/v1/threads/${threadId}/messages?limit=3${after ? `&after=${after}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.body.object).toBe("list");
      expect(r.body.data.length).toBeLessThanOrEqual(3);
      expect(r.body.first_id).toBe(r.body.data[0]?.id ?? null);
      expect(r.body.last_id).toBe(r.body.data.at(-1)?.id ?? null);
      seen.push(...r.body.data);
      if (!r.body.has_more) break;
      after = r.body.last_id;
    }
    expect(seen.map((m) => ({ role: m.role, content: m.content }))).toEqual(transcript);
    expect(seen.every((m, i) => i === 0 || m.seq > seen[i - 1].seq)).toBe(true);
    expect(seen.every((m) => m.object === "thread.message" && m.thread_id === threadId)).toBe(true);

    const desc = await api("GET", `/v1/threads/${threadId}/messages?order=desc&limit=2`);
    expect(desc.body.data.map((m: any) => m.id)).toEqual([seen.at(-1).id, seen.at(-2).id]);
    expect(desc.body.has_more).toBe(true);
    const next = await api("GET", `/v1/threads/${threadId}/messages?order=desc&limit=2&after=${desc.body.last_id}`);
    expect(next.body.data.map((m: any) => m.id)).toEqual([seen.at(-3).id, seen.at(-4).id]);

    const thread = await api("GET", `/v1/threads/${threadId}`);
    expect(thread.body).toMatchObject({ message_count: transcript.length, status: "idle" });
    expect(thread.body.usage.input_tokens).toBeGreaterThan(0);
  });

  it("gets a turn by id", async () => {
    const r = await api("GET", `/v1/threads/${threadId}/turns/${streamedTurnId}`);
    expect(r.status).toBe(200);
    const messages = (await api("GET", `/v1/threads/${threadId}/messages?order=desc&limit=2`)).body.data;
    expect(r.body).toMatchObject({ id: streamedTurnId, object: "thread.turn", thread_id: threadId, status: "completed",
      input_message_ids: [messages[1].id], output_message_id: messages[0].id, error: null });
    expect(r.body.completed_at).toBeGreaterThanOrEqual(r.body.created_at);

    const missing = await api("GET", `/v1/threads/${threadId}/turns/turn_nope`);
    expect(missing.status).toBe(404);
    expect(openAiError(missing).type).toBe("not_found_error");
  });

  it("answers an upstream failure with a 502 OpenAI error, keeps the user message, and the next turn works", async () => {
    const failing = "This one will hit a broken upstream";
    upstream.mock.fail({ kind: "status", status: 500 });
    const before = upstream.mock.chatRequests().length;
    const r = await api("POST", `/v1/threads/${threadId}/turns`, { input: failing });
    expect(r.status).toBe(502);
    expect(openAiError(r)).toMatchObject({ type: "upstream_error" });
    expect(upstream.mock.chatRequests().length).toBe(before + 1);

    const last = await api("GET", `/v1/threads/${threadId}/messages?order=desc&limit=1`);
    expect(last.body.data[0]).toMatchObject({ role: "user", content: failing, status: "completed" });
    const failedTurn = await api("GET", `/v1/threads/${threadId}/turns/${last.body.data[0].turn_id}`);
    expect(failedTurn.body).toMatchObject({ status: "failed", error: { type: "upstream_error" } });
    transcript.push({ role: "user", content: failing });

    const retry = "Let us try that again";
    const ok = await api("POST", `/v1/threads/${threadId}/turns`, { input: retry });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.status).toBe("completed");
    expect(lastPromptSent()).toEqual([{ role: "system", content: INSTRUCTIONS }, ...transcript, { role: "user", content: retry }]);
    transcript.push({ role: "user", content: retry }, { role: "assistant", content: ok.body.output.content });

    const thread = await api("GET", `/v1/threads/${threadId}`);
    expect(thread.body).toMatchObject({ message_count: transcript.length, status: "idle" });
  });
});
