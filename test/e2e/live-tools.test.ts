/**
 * A native tool loop over live WebSockets (issue #10), in Node against wrangler:
 * one socket starts a turn with tools, both sockets see the call's argument
 * fragments and the turn ending `requires_action`; the other socket answers
 * with the tool result and both see the final answer, which quotes it. Same
 * event contract as test/http/tools.test.ts (`message.tool_call.delta`).
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { apiClient, uniqueId } from "./client.ts";
import { closeAllSockets, connectSocket, eventsOf, type LiveSocket } from "./socket.ts";
import { useStack } from "./stack.ts";

const stack = useStack();
const api = (method: string, path: string, body?: unknown) => apiClient(stack.worker.url)(method, path, body);

afterEach(async () => {
  await closeAllSockets();
});
afterAll(async () => {
  await closeAllSockets();
});

const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

async function join(threadId: string): Promise<LiveSocket> {
  const s = await connectSocket(stack.worker.url, threadId);
  await s.waitFor(() => true, "the first frame");
  return s;
}

describe("WebSocket tool loop", () => {
  it("two sockets both see the tool call and, after the tool result, the final answer", async () => {
    const id = uniqueId("tools");
    expect((await api("POST", "/v1/threads", { id })).status).toBe(201);
    const a = await join(id);
    const b = await join(id);

    a.send({ type: "turn.create", request_id: "t1", input: '[[call get_weather {"city":"Lisbon"}]]', tools: [weather] });
    const ended = (f: any) => f.turn?.status === "requires_action" && /^turn\./.test(f.type) && f.type !== "turn.accepted";
    const first = await a.waitFor((f) => ended(f) || f.type === "error", "the turn ending requires_action", 15_000);
    expect(first.type, JSON.stringify(first)).not.toBe("error");
    await b.waitFor(ended, "the turn ending requires_action on the other socket", 15_000);
    const call = a.ofType("message.completed").map((f) => f.message).find((m) => m.tool_calls)?.tool_calls[0];
    expect(call).toMatchObject({ type: "function", function: { name: "get_weather", arguments: '{"city":"Lisbon"}' } });
    for (const s of [a, b]) {
      const fragments = s.ofType("message.tool_call.delta");
      expect(fragments.length).toBeGreaterThan(1);
      expect(fragments.map((f) => f.delta).join("")).toBe('{"city":"Lisbon"}');
      expect(fragments.every((f) => f.call_id === call.id)).toBe(true);
    }
    expect(eventsOf(b.frames)).toEqual(eventsOf(a.frames));

    const mark = stack.mark();
    b.send({ type: "turn.create", request_id: "t2", input: [{ role: "tool", tool_call_id: call.id, content: "mild" }] });
    for (const s of [a, b]) await s.waitFor((f) => f.type === "turn.completed", "turn.completed", 15_000);
    const answer = `tool results: get_weather(${call.id})=mild`;
    for (const s of [a, b]) expect(s.ofType("message.completed").at(-1).message).toMatchObject({ role: "assistant", content: answer });
    const sent = stack.chatSince(mark)[0]!.body.messages;
    expect(sent.slice(-2)).toMatchObject([
      { role: "assistant", tool_calls: [{ id: call.id, function: { name: "get_weather" } }] },
      { role: "tool", tool_call_id: call.id, content: "mild" },
    ]);
  });
});
