/**
 * Issue #10 on /v1/responses and conversations (workerd): function tools with
 * previous_response_id and conversation, function_call / function_call_output
 * conversation items, input_image, item_reference, the documented fields
 * accepted (with or without effect), and background responses.
 */
import { describe, expect, it } from "vitest";
import { api, errorOf, eventually, useMockUpstream } from "../helpers.ts";

const mock = useMockUpstream();
const MODEL = "@cf/meta/llama-3.1-8b-instruct";
const weather = { type: "function", name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false };
const ASK = '[[call get_weather {"city":"Paris"}]]';
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";

const respond = (body: object) => api("POST", "/v1/responses", { model: MODEL, ...body });

describe("function tools on Responses", () => {
  it("answers a call as a function_call item; its output, by previous_response_id, is answered with the call before it", async () => {
    const r1 = await respond({ input: ASK, tools: [weather], tool_choice: "auto" });
    expect(r1.status, JSON.stringify(r1.body)).toBe(200);
    const call = r1.body.output[0];
    expect(call).toMatchObject({ type: "function_call", id: expect.any(String), call_id: expect.any(String), name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" });
    expect(mock.chatRequests()[0]!.body).toMatchObject({ tools: [{ type: "function", function: { name: "get_weather", description: "Weather" } }], tool_choice: "auto" });
    const r2 = await respond({ previous_response_id: r1.body.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }], tools: [weather] });
    expect(r2.body.output_text ?? r2.body.output[0].content[0].text).toBe(`tool results: get_weather(${call.call_id})=sunny`);
    expect(mock.chatRequests()[1]!.body.messages.slice(-2)).toMatchObject([
      { role: "assistant", tool_calls: [{ id: call.call_id, function: { name: "get_weather" } }] }, { role: "tool", tool_call_id: call.call_id, content: "sunny" },
    ]);
  });

  it("tools: [] and tool_choice auto without tools are simply accepted; tool_choice none asks for no call", async () => {
    expect((await respond({ input: "hi", tools: [], tool_choice: "auto" })).status).toBe(200);
    const r = await respond({ input: ASK, tools: [weather], tool_choice: "none" });
    expect(r.body.output[0].type).toBe("message");
    expect(mock.chatRequests().at(-1)!.body.tool_choice).toBe("none");
  });

  it("parallel_tool_calls, tool_choice required and a named function reach the upstream in chat form", async () => {
    expect((await respond({ input: "hi", tools: [weather], tool_choice: "required", parallel_tool_calls: false })).status).toBe(200);
    expect(mock.chatRequests().at(-1)!.body).toMatchObject({ tool_choice: "required", parallel_tool_calls: false });
    expect((await respond({ input: "hi", tools: [weather], tool_choice: { type: "function", name: "get_weather" } })).status).toBe(200);
    expect(mock.chatRequests().at(-1)!.body.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
  });

  it("a reply's function_call is a conversation item retrieved by its fc_ ID", async () => {
    const c = (await api("POST", "/v1/conversations", {})).body;
    const r = await respond({ conversation: c.id, input: ASK, tools: [weather] });
    const call = r.body.output[0];
    expect(call.id).toMatch(/^fc_/);
    const got = await api("GET", `/v1/conversations/${c.id}/items/${call.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(call);
  });

  it("a function_call_output for no call of the chain is a 400 naming it, and nothing is stored", async () => {
    const c = (await api("POST", "/v1/conversations", {})).body;
    const r = await respond({ conversation: c.id, input: [{ type: "function_call_output", call_id: "call_nowhere", output: "x" }] });
    expect(r.status).toBe(400);
    expect(errorOf(r).message).toContain("call_nowhere");
    expect((await api("GET", `/v1/conversations/${c.id}/items`)).body.data).toEqual([]);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("conversation items of type function_call and function_call_output are created, listed and retrieved", async () => {
    const c = (await api("POST", "/v1/conversations", {})).body;
    const added = await api("POST", `/v1/conversations/${c.id}/items`, { items: [
      { role: "user", content: "weather?" },
      { type: "function_call", call_id: "call_a", name: "get_weather", arguments: "{}" },
      { type: "function_call_output", call_id: "call_a", output: "rain" },
    ] });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const list = (await api("GET", `/v1/conversations/${c.id}/items?order=asc`)).body.data;
    expect(list.map((i: any) => i.type)).toEqual(["message", "function_call", "function_call_output"]);
    expect(list[1]).toMatchObject({ call_id: "call_a", name: "get_weather", arguments: "{}" });
    expect((await api("GET", `/v1/conversations/${c.id}/items/${list[2].id}`)).body).toMatchObject({ type: "function_call_output", call_id: "call_a", output: "rain" });
    const r = await respond({ conversation: c.id, input: "so?" });
    expect(mock.chatRequests()[0]!.body.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "tool", "user"]);
    expect(r.status).toBe(200);
  });
});

describe("images, references and the documented fields", () => {
  it("input_image parts go upstream as image_url parts and are stored exactly", async () => {
    const content = [{ type: "input_text", text: "What is it?" }, { type: "input_image", image_url: PNG, detail: "low" }];
    const r = await respond({ input: [{ role: "user", content }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(mock.chatRequests()[0]!.body.messages.at(-1).content).toEqual([
      { type: "text", text: "What is it?" }, { type: "image_url", image_url: { url: PNG, detail: "low" } },
    ]);
    const items = (await api("GET", `/v1/responses/${r.body.id}/input_items`)).body.data;
    expect(items[0].content).toEqual(content);
  });

  it("input_file is a clear 400; a non-https image URL is a 400", async () => {
    const f = await respond({ input: [{ role: "user", content: [{ type: "input_file", file_id: "file_1" }] }] });
    expect(f.status).toBe(400);
    expect(errorOf(f).message).toContain("input_file");
    const h = await respond({ input: [{ role: "user", content: [{ type: "input_image", image_url: "http://169.254.169.254/x.png", detail: "auto" }] }] });
    expect(h.status).toBe(400);
    expect(mock.chatRequests()).toHaveLength(0);
  });

  it("an item_reference resolves to a stored item of the tenant; one naming nothing is a 400 naming it", async () => {
    const r1 = await respond({ input: "My name is Ada." });
    const msgId = r1.body.output[0].id;
    const r2 = await respond({ input: [{ role: "user", content: "My name is Ada." }, { type: "item_reference", id: msgId }, { role: "user", content: "Name?" }] });
    expect(r2.status, JSON.stringify(r2.body)).toBe(200);
    expect(mock.chatRequests()[1]!.body.messages.map((m: any) => [m.role, m.content])).toEqual([
      ["user", "My name is Ada."], ["assistant", r1.body.output[0].content[0].text], ["user", "Name?"],
    ]);
    const bad = await respond({ input: [{ type: "item_reference", id: "msg_nothing" }] });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toContain("msg_nothing");
  });

  it("an item_reference to a reply's reasoning item (as the AI SDK sends history) resolves, and the reasoning stays out of the prompt", async () => {
    const r1 = await respond({ input: "[[reasoning think it over]] My name is Ada." });
    const [rs, msg] = r1.body.output;
    expect(rs).toMatchObject({ type: "reasoning", id: expect.stringMatching(/^rs_/) });
    const r2 = await respond({ input: [{ role: "user", content: "My name is Ada." }, { type: "item_reference", id: rs.id }, { type: "item_reference", id: msg.id }, { role: "user", content: "Name?" }] });
    expect(r2.status, JSON.stringify(r2.body)).toBe(200);
    expect(mock.chatRequests()[1]!.body.messages.map((m: any) => [m.role, m.content])).toEqual([
      ["user", "My name is Ada."], ["assistant", msg.content[0].text], ["user", "Name?"],
    ]);
  });

  it("accepts every documented field; service_tier is answered as default; an undocumented one is still a 400", async () => {
    const r = await respond({ input: "hi", service_tier: "auto", prompt_cache_key: "k", prompt_cache_retention: "24h", safety_identifier: "s",
      user: "u", text: { verbosity: "low" }, top_logprobs: 0, max_tool_calls: 2, stream_options: null, truncation: "auto", include: [], store: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.service_tier).toBe("default");
    const bad = await respond({ input: "hi", frequency_penalty: 1 });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toBe("Unknown parameter: 'frequency_penalty'.");
  });
});

describe("background responses", () => {
  it("answers queued at once, runs in its object, and GET shows it completed", async () => {
    const r = await respond({ input: "in the background", background: true });
    expect(r.status).toBe(200);
    expect(["queued", "in_progress"]).toContain(r.body.status);
    const done = await eventually(async () => {
      const g = await api("GET", `/v1/responses/${r.body.id}`);
      return g.body.status === "completed" && g.body;
    });
    expect(done.output[0].content[0].text).toMatch(/in the background$/);
  });

  it("POST /v1/responses/{id}/cancel cancels a running background response", async () => {
    mock.fail({ kind: "hang" });
    const r = await respond({ input: "never ends", background: true });
    const c = await api("POST", `/v1/responses/${r.body.id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body.status).toBe("cancelled");
    expect((await api("GET", `/v1/responses/${r.body.id}`)).body.status).toBe("cancelled");
  });
});
