/**
 * The stack every client suite runs against: the mock upstream served on
 * 127.0.0.1 and the Worker under wrangler pointed at it (AUTH_MODE=none), plus
 * readers for what reached the upstream. Used by the client suites
 * (agents-sdk, ai-sdk, langchain, responses-parse, live-tools).
 */
import { afterAll, beforeAll, expect } from "vitest";
import type { RecordedRequest } from "../mock/upstream.ts";
import { mockUpstreamVars, serveMockUpstream, startWorker, type RunningWorker, type ServedMock } from "./harness.ts";

/** A Workers AI chat model the Worker knows. */
export const MODEL = "@cf/meta/llama-3.1-8b-instruct";

export interface Stack {
  upstream: ServedMock;
  worker: RunningWorker;
  /** `http://127.0.0.1:PORT/v1`: the Worker's OpenAI-compatible base URL. */
  baseURL: string;
  /** How many chat requests the upstream has received so far (a mark for `chatSince`). */
  mark(): number;
  /** The chat requests the upstream received since a mark. */
  chatSince(mark: number): RecordedRequest[];
}

/** Starts the mock upstream and the Worker before the file's tests and stops both after them. */
export function useStack(): Stack {
  const stack = {} as Stack;
  beforeAll(async () => {
    stack.upstream = await serveMockUpstream();
    stack.worker = await startWorker({ vars: mockUpstreamVars(stack.upstream) });
    stack.baseURL = `${stack.worker.url}/v1`;
  });
  afterAll(async () => {
    await stack.worker?.dispose();
    await stack.upstream?.close();
  });
  stack.mark = () => stack.upstream.mock.chatRequests().length;
  stack.chatSince = (mark) => stack.upstream.mock.chatRequests().slice(mark);
  return stack;
}

/** The role and text of each chat message (text parts joined), for comparing prompts. */
export function transcript(messages: any[]): Array<{ role: string; content: string }> {
  return messages.map((m) => ({
    role: m.role,
    content: typeof m.content === "string" ? m.content : Array.isArray(m.content) ? m.content.map((p: any) => p.text ?? "").join("") : "",
  }));
}

/**
 * Checks one upstream chat request of a tool round trip's second step: it holds an
 * assistant message calling `name` with `args`, followed by the tool message answering
 * that call with `output`; returns the call's ID.
 */
export function toolExchangeIn(req: RecordedRequest, name: string, args: unknown, output: string): string {
  const msgs: any[] = req.body.messages;
  const a = msgs.findIndex((m) => m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.some((c: any) => c.function?.name === name));
  expect(a, `an assistant message calling ${name} in ${JSON.stringify(msgs)}`).toBeGreaterThanOrEqual(0);
  const call = msgs[a].tool_calls.find((c: any) => c.function.name === name);
  expect(call).toMatchObject({ type: "function", function: { name } });
  expect(JSON.parse(call.function.arguments)).toEqual(args);
  expect(msgs[a + 1], "the tool result right after its call").toMatchObject({ role: "tool", tool_call_id: call.id, content: output });
  return call.id;
}
