/**
 * LangChain (`@langchain/openai` ChatOpenAI, pinned) with `useResponsesApi: true`
 * and `bindTools`, pointed at the Worker: the model's tool call becomes
 * `AIMessage.tool_calls`, the ToolMessage goes back (LangChain resends the whole
 * history, the server's own function_call item with its id included, and always
 * `text: {}` and `strict: null`: test/e2e/CLIENTS.md), and the answer quotes the
 * tool result; the same streamed. Assertions are on what LangChain returns and
 * on what reached the upstream.
 */
import { AIMessageChunk, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MODEL, toolExchangeIn, useStack } from "./stack.ts";

const stack = useStack();

const getWeather = tool(async ({ city }) => `sunny in ${city}`, {
  name: "get_weather",
  description: "The weather in a city",
  schema: z.object({ city: z.string() }),
});
const ASK_PARIS = 'Weather in Paris? [[call get_weather {"city":"Paris"}]]';

function model(streaming = false) {
  return new ChatOpenAI({ model: MODEL, apiKey: "sk-any", configuration: { baseURL: stack.baseURL }, useResponsesApi: true, maxRetries: 0, streaming })
    .bindTools([getWeather]);
}

describe("LangChain ChatOpenAI useResponsesApi + bindTools", () => {
  it("the tool call becomes tool_calls, the ToolMessage goes back with its call, the answer quotes it", async () => {
    const llm = model();
    const mark = stack.mark();
    const messages: BaseMessage[] = [new HumanMessage(ASK_PARIS)];
    const ai = await llm.invoke(messages);
    expect(ai.tool_calls).toEqual([expect.objectContaining({ name: "get_weather", args: { city: "Paris" }, type: "tool_call" })]);
    const [first] = stack.chatSince(mark);
    expect(first!.body.tools).toEqual([
      { type: "function", function: expect.objectContaining({ name: "get_weather", description: "The weather in a city",
        parameters: expect.objectContaining({ properties: { city: { type: "string" } } }) }) },
    ]);

    const call = ai.tool_calls![0]!;
    messages.push(ai, new ToolMessage({ content: await getWeather.invoke(call.args as { city: string }), tool_call_id: call.id! }));
    const final = await llm.invoke(messages);
    const reqs = stack.chatSince(mark);
    expect(reqs).toHaveLength(2);
    const callId = toolExchangeIn(reqs[1]!, "get_weather", { city: "Paris" }, "sunny in Paris");
    expect(ai.tool_calls![0]!.id).toBe(callId);
    expect(final.text).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
    expect(final.tool_calls ?? []).toEqual([]);
  });

  it("streamed: the tool call is assembled from argument deltas, and the answer streams back", async () => {
    const llm = model(true);
    const mark = stack.mark();
    let gathered: AIMessageChunk | undefined;
    for await (const chunk of await llm.stream([new HumanMessage(ASK_PARIS)])) gathered = gathered ? gathered.concat(chunk) : chunk;
    expect(gathered!.tool_calls).toEqual([expect.objectContaining({ name: "get_weather", args: { city: "Paris" } })]);
    const callId = gathered!.tool_calls![0]!.id!;
    let text = "";
    const history = [new HumanMessage(ASK_PARIS), gathered!, new ToolMessage({ content: "sunny in Paris", tool_call_id: callId })];
    for await (const chunk of await llm.stream(history)) text += chunk.text;
    expect(toolExchangeIn(stack.chatSince(mark)[1]!, "get_weather", { city: "Paris" }, "sunny in Paris")).toBe(callId);
    expect(text).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
  });
});
