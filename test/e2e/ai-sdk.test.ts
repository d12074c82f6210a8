/**
 * The AI SDK (`ai` + `@ai-sdk/openai`, pinned) with `openai.responses(model)`
 * pointed at the Worker: a tool round trip (generated and streamed),
 * `Output.object` (structured output through `text.format`), and a history
 * resend in which the SDK replaces the earlier assistant message by an
 * `item_reference` (it does so whenever store is not false, with no
 * previous_response_id or conversation: test/e2e/CLIENTS.md). Assertions are on
 * what the SDK returns and on what reached the upstream.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, Output, stepCountIs, streamText, tool, type ModelMessage } from "ai";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { MODEL, toolExchangeIn, transcript, useStack } from "./stack.ts";

const stack = useStack();
let model: ReturnType<ReturnType<typeof createOpenAI>["responses"]>;
/** Every body the SDK posted to /v1/responses, in order. */
const sent: any[] = [];

beforeAll(() => {
  const openai = createOpenAI({
    baseURL: stack.baseURL, apiKey: "sk-any",
    fetch: async (url, init) => {
      if (String(url).endsWith("/responses") && typeof init?.body === "string") sent.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
  model = openai.responses(MODEL);
});

const weatherCalls: string[] = [];
const tools = {
  get_weather: tool({
    description: "The weather in a city",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      weatherCalls.push(city);
      return `sunny in ${city}`;
    },
  }),
};
const ASK_PARIS = 'Weather in Paris? [[call get_weather {"city":"Paris"}]]';

/** The resent history reached the upstream as the three messages it stands for, and the echo answered the last. */
function expectResent(mark: number, firstText: string, secondText: string): void {
  const prompt = transcript(stack.chatSince(mark)[0]!.body.messages).filter((m) => m.role !== "system");
  expect(prompt).toEqual([
    { role: "user", content: "My name is Ada." },
    { role: "assistant", content: firstText },
    { role: "user", content: "What is my name?" },
  ]);
  expect(secondText).toBe("echo(3): What is my name?");
}

describe("AI SDK openai.responses()", () => {
  it("a tool round trip: the call runs the tool, the result goes upstream with its call, the answer quotes it", async () => {
    weatherCalls.length = 0;
    const mark = stack.mark();
    const r = await generateText({ model, prompt: ASK_PARIS, tools, stopWhen: stepCountIs(3) });
    expect(weatherCalls).toEqual(["Paris"]);
    expect(r.steps).toHaveLength(2);
    expect(r.steps[0]!.toolCalls.map((c) => [c.toolName, c.input])).toEqual([["get_weather", { city: "Paris" }]]);
    const reqs = stack.chatSince(mark);
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.body.tools).toEqual([
      { type: "function", function: expect.objectContaining({ name: "get_weather", parameters: expect.objectContaining({ properties: { city: { type: "string" } } }) }) },
    ]);
    expect(reqs[0]!.body.tool_choice ?? "auto").toBe("auto");
    const callId = toolExchangeIn(reqs[1]!, "get_weather", { city: "Paris" }, "sunny in Paris");
    expect(r.steps[0]!.toolCalls[0]!.toolCallId).toBe(callId);
    expect(r.text).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
  });

  it("a streamed tool round trip gives the same answer, streamed", async () => {
    const mark = stack.mark();
    const s = streamText({ model, prompt: ASK_PARIS, tools, stopWhen: stepCountIs(3) });
    let text = "";
    for await (const d of s.textStream) text += d;
    const callId = toolExchangeIn(stack.chatSince(mark)[1]!, "get_weather", { city: "Paris" }, "sunny in Paris");
    expect(text).toBe(`tool results: get_weather(${callId})=sunny in Paris`);
    expect((await s.steps)[0]!.toolCalls.map((c) => c.input)).toEqual([{ city: "Paris" }]);
  });

  it("Output.object: the schema goes upstream as response_format json_schema and the object comes back parsed", async () => {
    const schema = z.object({ city: z.string(), temperature: z.number() });
    const mark = stack.mark();
    const r = await generateText({ model, prompt: 'Weather as JSON [[json {"city":"Paris","temperature":21}]]', output: Output.object({ schema }) });
    expect(r.output).toEqual({ city: "Paris", temperature: 21 });
    expect(sent.at(-1).text.format).toMatchObject({ type: "json_schema", name: "response", strict: true });
    const [req] = stack.chatSince(mark);
    expect(req!.body.response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "response", strict: true, schema: expect.objectContaining({ type: "object", required: ["city", "temperature"] }) },
    });
  });

  it("a history resend: the earlier reply is sent as an item_reference, resolved to its text upstream", async () => {
    const first = await generateText({ model, prompt: "My name is Ada." });
    const messages: ModelMessage[] = [{ role: "user", content: "My name is Ada." }, ...first.response.messages, { role: "user", content: "What is my name?" }];
    const mark = stack.mark();
    const second = await generateText({ model, messages });
    const refs = sent.at(-1).input.filter((i: any) => i.type === "item_reference");
    expect(refs).toHaveLength(1);
    expect(refs[0].id).toMatch(/^msg_/);
    expect(sent.at(-1).previous_response_id).toBeUndefined();
    expect(sent.at(-1).conversation).toBeUndefined();
    expectResent(mark, first.text, second.text);
  });

  it("a history resend after a reply with reasoning: the reasoning item_reference resolves and stays out of the prompt", async () => {
    const first = await generateText({ model, prompt: "[[reasoning let me think]] My name is Ada." });
    // The SDK reads reasoning summaries only (ours has none: the text is in content), so the part it keeps is empty but carries the item ID.
    expect(first.reasoning).toHaveLength(1);
    const messages: ModelMessage[] = [{ role: "user", content: "My name is Ada." }, ...first.response.messages, { role: "user", content: "What is my name?" }];
    const mark = stack.mark();
    const second = await generateText({ model, messages });
    const refs = sent.at(-1).input.filter((i: any) => i.type === "item_reference").map((i: any) => i.id.slice(0, 3));
    expect(refs).toEqual(["rs_", "msg"]);
    expectResent(mark, first.text, second.text);
  });

  it("an item_reference that names no stored item fails with a 400 naming it", async () => {
    const res = await fetch(`${stack.baseURL}/responses`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, input: [{ type: "item_reference", id: "msg_doesnotexist" }, { role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(400);
    const body: any = await res.json();
    expect(body.error).toMatchObject({ type: "invalid_request_error" });
    expect(body.error.message).toContain("msg_doesnotexist");
  });
});
