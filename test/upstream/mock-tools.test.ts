/**
 * The mock upstream's tool calls, JSON mode, image echo and reasoning, read by
 * the real `openai` SDK (its stream accumulator assembles tool calls from
 * chunks), so the mock's wire format is the one clients really parse.
 */
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { MockUpstream, type Fault } from "../mock/upstream.ts";

const tools = [
  { type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
  { type: "function" as const, function: { name: "get_time", parameters: { type: "object", properties: {} } } },
];

function clientOf(mock: MockUpstream): OpenAI {
  return new OpenAI({ baseURL: "http://mock.test/v1", apiKey: "k", maxRetries: 0, fetch: (input, init) => mock.handle(new Request(input, init)) });
}

/** The raw `data:` payloads of a streamed chat reply (the JSON ones). */
async function rawChunks(mock: MockUpstream, body: object, fault?: Fault): Promise<{ chunks: any[]; error: unknown }> {
  if (fault) mock.fail(fault);
  const res = await mock.handle(new Request("http://mock.test/v1/chat/completions", { method: "POST", body: JSON.stringify({ ...body, stream: true }) }));
  let text = "";
  let error: unknown = null;
  try {
    for await (const c of res.body!) text += new TextDecoder().decode(c);
  } catch (err) {
    error = err;
  }
  const chunks = text.split("\n\n").filter((f) => f.startsWith("data: {")).map((f) => JSON.parse(f.slice(6)));
  return { chunks, error };
}

describe("mock upstream: tool calls", () => {
  it("answers a [[call]] directive with tool calls and finish_reason tool_calls, not streamed", async () => {
    const c = clientOf(new MockUpstream());
    const r = await c.chat.completions.create({ model: "m", tools, messages: [{ role: "user", content: 'Weather? [[call get_weather {"city":"Paris"}]]' }] });
    expect(r.choices[0]!.finish_reason).toBe("tool_calls");
    expect(r.choices[0]!.message.content).toBeNull();
    expect(r.choices[0]!.message.tool_calls).toEqual([
      { id: "call_mock1_0", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
    ]);
  });

  it("streams parallel calls as a header chunk then argument fragments each, which the SDK assembles", async () => {
    const mock = new MockUpstream();
    const content = 'Both [[call get_weather {"city":"Paris, France"}]] [[call get_time]]';
    const stream = clientOf(mock).chat.completions.stream({ model: "m", tools, messages: [{ role: "user", content }] });
    const done = await stream.finalChatCompletion();
    expect(done.choices[0]!.finish_reason).toBe("tool_calls");
    expect(done.choices[0]!.message.tool_calls!.map((t: any) => [t.id, t.function.name, t.function.arguments])).toEqual([
      ["call_mock1_0", "get_weather", '{"city":"Paris, France"}'],
      ["call_mock1_1", "get_time", "{}"],
    ]);

    const { chunks } = await rawChunks(mock, { model: "m", tools, messages: [{ role: "user", content }] });
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(toolDeltas[0]).toEqual({ index: 0, id: "call_mock2_0", type: "function", function: { name: "get_weather", arguments: "" } });
    const firstArgs = toolDeltas.filter((d) => d.index === 0 && d.id === undefined).map((d) => d.function.arguments);
    expect(firstArgs.length).toBeGreaterThan(2);
    expect(firstArgs.join("")).toBe('{"city":"Paris, France"}');
  });

  it("a cut fault can end the stream in the middle of the arguments", async () => {
    const mock = new MockUpstream();
    const { chunks, error } = await rawChunks(mock, { model: "m", tools, messages: [{ role: "user", content: '[[call get_weather {"city":"Paris"}]]' }] },
      { kind: "cut", afterChunks: 2 });
    expect(error).not.toBeNull();
    const args = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((d: any) => d.function.arguments).join("");
    expect(args.length).toBeGreaterThan(0);
    expect(() => JSON.parse(args)).toThrow();
    expect(chunks.some((c) => c.choices[0]?.finish_reason)).toBe(false);
  });

  it("ignores the directive without tools or with tool_choice none, and quotes tool results it is sent", async () => {
    const c = clientOf(new MockUpstream());
    const plain = await c.chat.completions.create({ model: "m", messages: [{ role: "user", content: "[[call get_weather]]" }] });
    expect(plain.choices[0]!.message.content).toBe("echo(1): [[call get_weather]]");
    const none = await c.chat.completions.create({ model: "m", tools, tool_choice: "none", messages: [{ role: "user", content: "[[call get_weather]]" }] });
    expect(none.choices[0]!.finish_reason).toBe("stop");

    const after = await c.chat.completions.create({
      model: "m", tools,
      messages: [
        { role: "user", content: "[[call get_weather]] [[call get_time]]" },
        { role: "assistant", content: null, tool_calls: [
          { id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } },
          { id: "c2", type: "function", function: { name: "get_time", arguments: "{}" } },
        ] },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
        { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "noon" }] },
      ],
    });
    expect(after.choices[0]!.message.content).toBe("tool results: get_weather(c1)=sunny; get_time(c2)=noon");
  });
});

describe("mock upstream: JSON mode, images, reasoning", () => {
  it("answers json_schema with a value of the schema, or the [[json]] text, or invalid JSON on [[json-invalid]]", async () => {
    const c = clientOf(new MockUpstream());
    const schema = { type: "object", properties: { city: { type: "string" }, temperature: { type: "number" }, tags: { type: "array" } } };
    const rf = { type: "json_schema" as const, json_schema: { name: "w", schema, strict: true } };
    const ask = async (content: string, response_format: any = rf) =>
      (await c.chat.completions.create({ model: "m", response_format, messages: [{ role: "user", content }] })).choices[0]!.message.content!;
    expect(JSON.parse(await ask("weather"))).toEqual({ city: "mock", temperature: 1, tags: [] });
    expect(await ask('x [[json {"city":"Paris","temperature":21}]]')).toBe('{"city":"Paris","temperature":21}');
    expect(await ask('x [[json {"a":1}]]', { type: "json_object" })).toBe('{"a":1}');
    const invalid = await ask("x [[json-invalid]]");
    expect(() => JSON.parse(invalid)).toThrow();
  });

  it("echoes image parts: how many, each URL's prefix and detail", async () => {
    const c = clientOf(new MockUpstream());
    const r = await c.chat.completions.create({ model: "m", messages: [{ role: "user", content: [
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB", detail: "low" } },
      { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
    ] }] });
    expect(r.choices[0]!.message.content).toBe(
      "echo(1): What is this? [2 images: data:image/png;base64,iVBORw0KGg (low) | https://example.com/cat.png]");
  });

  it("streams reasoning_content before the content on [[reasoning]]", async () => {
    const { chunks } = await rawChunks(new MockUpstream(), { model: "m", messages: [{ role: "user", content: "[[reasoning think it over]] hi" }] });
    const deltas = chunks.map((c) => c.choices[0]?.delta ?? {});
    const firstContent = deltas.findIndex((d) => d.content);
    const reasoning = deltas.filter((d) => d.reasoning_content).map((d) => d.reasoning_content);
    expect(reasoning.join("")).toBe("think it over");
    expect(deltas.findLastIndex((d) => d.reasoning_content)).toBeLessThan(firstContent);
  });
});
