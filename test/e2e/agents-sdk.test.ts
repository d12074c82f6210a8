/**
 * The OpenAI Agents SDK (`@openai/agents`, pinned) with its default model, the
 * Responses model, pointed at the Worker by `setDefaultOpenAIClient`: a plain
 * run, a run continued with previousResponseId, runs in a conversation, and a
 * function tool whose output goes back and is answered (full-history resend, in
 * a conversation, streamed). The SDK always sends `tools: []` and `include: []`
 * (test/e2e/CLIENTS.md). Assertions are on what the run returns and on what
 * reached the upstream.
 */
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool } from "@openai/agents";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { MODEL, toolExchangeIn, transcript, useStack } from "./stack.ts";

const stack = useStack();
let client: OpenAI;
/** Every body the SDK posted to /v1/responses, in order. */
const sent: any[] = [];

beforeAll(() => {
  // Tracing would export spans to api.openai.com: off, as with any non-OpenAI backend.
  setTracingDisabled(true);
  client = new OpenAI({
    baseURL: stack.baseURL, apiKey: "sk-any", maxRetries: 0, timeout: 30_000,
    fetch: async (url, init) => {
      if (String(url).endsWith("/responses") && typeof init?.body === "string") sent.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
  setDefaultOpenAIClient(client);
});

const brief = () => new Agent({ name: "Brief", instructions: "Be brief.", model: MODEL });

/** Calls made to the get_weather tool, by city. */
const weatherCalls: string[] = [];
const getWeather = tool({
  name: "get_weather",
  description: "The weather in a city",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    weatherCalls.push(city);
    return `sunny in ${city}`;
  },
});
const forecaster = () => new Agent({ name: "Forecaster", instructions: "Use the tool.", model: MODEL, tools: [getWeather] });
const ASK_PARIS = 'Weather in Paris? [[call get_weather {"city":"Paris"}]]';

describe("@openai/agents, default Responses model", () => {
  it("a plain run (the SDK sends tools: [] and include: []) answers with the upstream's reply", async () => {
    const mark = stack.mark();
    const result = await run(brief(), "Hello agent");
    expect(sent.at(-1)).toMatchObject({ tools: [], include: [], stream: false, instructions: "Be brief." });
    const [req] = stack.chatSince(mark);
    expect(stack.chatSince(mark)).toHaveLength(1);
    const prompt = transcript(req!.body.messages);
    expect(prompt.at(-1)).toEqual({ role: "user", content: "Hello agent" });
    expect(prompt.some((m) => m.role === "system" && m.content.includes("Be brief."))).toBe(true);
    expect(req!.body.tools ?? []).toEqual([]);
    expect(result.finalOutput).toBe(`echo(${prompt.length}): Hello agent`);
    expect(result.lastResponseId).toMatch(/^resp_/);
  });

  it("a run continued with previousResponseId sends the earlier exchange upstream", async () => {
    const first = await run(brief(), "My name is Ada.");
    const mark = stack.mark();
    const second = await run(brief(), "What is my name?", { previousResponseId: first.lastResponseId });
    expect(sent.at(-1)).toMatchObject({ previous_response_id: first.lastResponseId, input: [{ role: "user", content: "What is my name?" }] });
    const prompt = transcript(stack.chatSince(mark)[0]!.body.messages).filter((m) => m.role !== "system");
    expect(prompt).toEqual([
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: first.finalOutput },
      { role: "user", content: "What is my name?" },
    ]);
    expect(second.finalOutput).toMatch(/^echo\(\d+\): What is my name\?$/);
    expect(second.lastResponseId).not.toBe(first.lastResponseId);
  });

  it("runs with conversationId share the conversation, whose items hold both exchanges", async () => {
    const conv = await client.conversations.create({});
    const first = await run(brief(), "Remember: blue.", { conversationId: conv.id });
    const mark = stack.mark();
    const second = await run(brief(), "Which colour?", { conversationId: conv.id });
    expect(sent.at(-1)).toMatchObject({ conversation: conv.id, tools: [] });
    const prompt = transcript(stack.chatSince(mark)[0]!.body.messages).filter((m) => m.role !== "system");
    expect(prompt).toEqual([
      { role: "user", content: "Remember: blue." },
      { role: "assistant", content: first.finalOutput },
      { role: "user", content: "Which colour?" },
    ]);
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data;
    expect(items.map((i: any) => [i.role, i.content.map((p: any) => p.text).join("")])).toEqual([
      ["user", "Remember: blue."], ["assistant", first.finalOutput], ["user", "Which colour?"], ["assistant", second.finalOutput],
    ]);
  });

  it("a function tool: the call reaches the tool, its output goes back upstream and the answer quotes it", async () => {
    weatherCalls.length = 0;
    const mark = stack.mark();
    const result = await run(forecaster(), ASK_PARIS);
    expect(weatherCalls).toEqual(["Paris"]);
    const reqs = stack.chatSince(mark);
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.body.tools).toEqual([
      { type: "function", function: expect.objectContaining({ name: "get_weather", description: "The weather in a city",
        parameters: expect.objectContaining({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }) }) },
    ]);
    // Without a chain the SDK resends the whole history, the server's own function_call item included.
    expect(sent.at(-1).input.map((i: any) => i.type ?? "message")).toEqual(["message", "function_call", "function_call_output"]);
    const callId = toolExchangeIn(reqs[1]!, "get_weather", { city: "Paris" }, "sunny in Paris");
    expect(result.finalOutput).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
  });

  it("outputType with a tool: the call is made (not held to the JSON format), and the answer after its output is the parsed object", async () => {
    weatherCalls.length = 0;
    const agent = new Agent({ name: "Structured", instructions: "Use the tool.", model: MODEL, tools: [getWeather], outputType: z.object({ city: z.string() }) });
    const mark = stack.mark();
    const result = await run(agent, ASK_PARIS);
    expect(weatherCalls).toEqual(["Paris"]);
    const reqs = stack.chatSince(mark);
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.body.response_format).toMatchObject({ type: "json_schema" });
    expect(result.finalOutput).toEqual({ city: "mock" });
  });

  it("a function tool in a conversation: only the output is sent back, the server supplies the stored call", async () => {
    const conv = await client.conversations.create({});
    const mark = stack.mark();
    const result = await run(forecaster(), ASK_PARIS, { conversationId: conv.id });
    expect(sent.at(-1)).toMatchObject({ conversation: conv.id, input: [{ type: "function_call_output", output: "sunny in Paris" }] });
    const reqs = stack.chatSince(mark);
    expect(reqs).toHaveLength(2);
    const callId = toolExchangeIn(reqs[1]!, "get_weather", { city: "Paris" }, "sunny in Paris");
    expect(result.finalOutput).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data as any[];
    expect(items.map((i) => i.type)).toEqual(["message", "function_call", "function_call_output", "message"]);
    expect(items[1]).toMatchObject({ type: "function_call", call_id: callId, name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(items[2]).toMatchObject({ type: "function_call_output", call_id: callId, output: "sunny in Paris" });
  });

  it("a streamed run with a tool: text deltas arrive and the final output quotes the tool result", async () => {
    const mark = stack.mark();
    const stream = await run(forecaster(), ASK_PARIS, { stream: true });
    let text = "";
    for await (const e of stream.toTextStream()) text += e;
    await stream.completed;
    const callId = toolExchangeIn(stack.chatSince(mark)[1]!, "get_weather", { city: "Paris" }, "sunny in Paris");
    expect(stream.finalOutput).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
    expect(text).toBe(stream.finalOutput);
  });
});
