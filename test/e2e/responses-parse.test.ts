/**
 * The openai SDK's `responses.parse()` and `responses.stream()` with a zod
 * schema (`zodTextFormat`), against the Worker: the format goes upstream as
 * `response_format` json_schema, `output_parsed` is the object; a JSON format
 * is asked of the upstream without streaming (Workers AI's JSON mode does not
 * stream) and streamed to the client from the whole answer; a reply that is not
 * valid JSON fails and is not stored as the conversation's answer.
 */
import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { MODEL, useStack } from "./stack.ts";

const stack = useStack();
let client: OpenAI;
beforeAll(() => {
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: "sk-any", maxRetries: 0, timeout: 30_000 });
});

const Weather = z.object({ city: z.string(), temperature: z.number() });
const format = zodTextFormat(Weather, "weather");
const PARIS = '{"city":"Paris","temperature":21}';

describe("openai responses.parse() with a zod schema", () => {
  it("sends text.format upstream as response_format json_schema and returns output_parsed", async () => {
    const mark = stack.mark();
    const r = await client.responses.parse({ model: MODEL, input: `Weather? [[json ${PARIS}]]`, text: { format } });
    expect(r.status).toBe("completed");
    expect(r.output_parsed).toEqual({ city: "Paris", temperature: 21 });
    expect(r.output_text).toBe(PARIS);
    expect(r.text?.format).toMatchObject({ type: "json_schema", name: "weather", strict: true });
    const reqs = stack.chatSince(mark);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.body.response_format).toEqual({
      type: "json_schema",
      json_schema: expect.objectContaining({ name: "weather", strict: true,
        schema: expect.objectContaining({ type: "object", properties: { city: { type: "string" }, temperature: { type: "number" } } }) }),
    });
  });

  it("streamed: the upstream is called without streaming, the client still gets the events and the parsed object", async () => {
    const mark = stack.mark();
    const stream = client.responses.stream({ model: MODEL, input: `Weather? [[json ${PARIS}]]`, text: { format } });
    const types: string[] = [];
    let deltas = "";
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === "response.output_text.delta") deltas += e.delta;
    }
    const final = await stream.finalResponse();
    expect(final.output_parsed).toEqual({ city: "Paris", temperature: 21 });
    expect(deltas).toBe(PARIS);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    const [req] = stack.chatSince(mark);
    expect(req!.body.stream ?? false).toBe(false);
    expect(req!.body.response_format?.type).toBe("json_schema");
  });

  it("text.format json_object is sent as response_format json_object", async () => {
    const mark = stack.mark();
    const r = await client.responses.create({ model: MODEL, input: 'JSON please [[json {"ok":true}]]', text: { format: { type: "json_object" } } });
    expect(JSON.parse(r.output_text)).toEqual({ ok: true });
    expect(stack.chatSince(mark)[0]!.body.response_format).toEqual({ type: "json_object" });
  });

  it("a reply that is not valid JSON for the schema fails, and no answer is stored in the conversation", async () => {
    const conv = await client.conversations.create({});
    const mark = stack.mark();
    const failed = await client.responses.parse({ model: MODEL, conversation: conv.id, input: "Weather? [[json-invalid]]", text: { format } })
      .then((r) => r, (err: unknown) => err);
    expect(stack.chatSince(mark), "the request was accepted and the upstream asked").toHaveLength(1);
    if (failed instanceof Error) {
      // The request was valid: what failed is the reply, so not a 400.
      expect(failed).not.toBeInstanceOf(OpenAI.BadRequestError);
      expect(failed.message).toMatch(/json/i);
    } else {
      expect(failed).toMatchObject({ status: "failed", error: { code: expect.any(String), message: expect.stringMatching(/json/i) } });
    }
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data as any[];
    expect(items.filter((i) => i.type === "message" && i.role === "assistant" && i.status === "completed")).toEqual([]);
  });
});
