/**
 * Item IDs that route (responses/ids.ts) and the mapping of Responses input
 * items to stored messages (responses/items.ts): pure functions, no object.
 */
import { describe, expect, it } from "vitest";
import { itemId, parseItemId } from "../../src/responses/ids.ts";
import { itemsOfMessage, messagesOfItems } from "../../src/responses/items.ts";

describe("item IDs", () => {
  it("carry their thread and message, and a call's index, and parse back", () => {
    for (const thread of ["conv_abc", "respchain-x.y:z", "t_with_underscores-and-dashes"]) {
      expect(parseItemId(itemId("msg", thread, "msg_k3j2h1g0f9e8d7"))).toEqual({ kind: "msg", threadId: thread, messageId: "msg_k3j2h1g0f9e8d7", index: null });
      expect(parseItemId(itemId("fc", thread, "msg_k3j2h1g0f9e8d7", 12))).toEqual({ kind: "fc", threadId: thread, messageId: "msg_k3j2h1g0f9e8d7", index: 12 });
    }
  });

  it("name nothing when they are not ours", () => {
    for (const id of ["msg_nothing", "msg_abc", "fc_abc-1", "call_abc_Zm9v", "msg_abc_!!", "msg_abc_" + "Li4"]) expect(parseItemId(id)).toBeNull();
  });
});

describe("input items as stored messages", () => {
  it("joins consecutive calls (and the text before them) into one assistant message, and outputs into tool messages", () => {
    const stored = messagesOfItems([
      { role: "user", content: [{ type: "input_text", text: "weather?" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}", id: "fc_x", status: "completed" },
      { type: "function_call", call_id: "c2", name: "g", arguments: "{\"a\":1}" },
      { type: "function_call_output", call_id: "c1", output: "one" },
      { type: "reasoning", id: "rs_1", summary: [] },
      { type: "function_call_output", call_id: "c2", output: "two", status: "completed" },
    ]);
    expect(stored.map((s) => s.message)).toEqual([
      { role: "user", content: "weather?" },
      { role: "assistant", content: "Checking.", tool_calls: [
        { id: "c1", type: "function", function: { name: "f", arguments: "{}" } }, { id: "c2", type: "function", function: { name: "g", arguments: "{\"a\":1}" } }] },
      { role: "tool", content: "one", tool_call_id: "c1" },
      { role: "tool", content: "two", tool_call_id: "c2" },
    ]);
  });

  it("keeps image parts as chat parts, and gives them back as input_image items", () => {
    const content = [{ type: "input_text" as const, text: "this?" }, { type: "input_image" as const, image_url: "https://example.com/a.png", detail: "original" as const }];
    const [stored] = messagesOfItems([{ role: "user", content }]);
    expect(stored!.message.content).toEqual([{ type: "text", text: "this?" }, { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "high" } }]);
    const [item] = itemsOfMessage("conv_1", { id: "msg_abc1", object: "thread.message", thread_id: "conv_1", seq: 1, role: "user",
      content: stored!.message.content, status: "completed", turn_id: null, created_at: 0, metadata: {}, usage: null });
    expect(item).toMatchObject({ type: "message", role: "user", content: [{ type: "input_text", text: "this?" }, { type: "input_image", image_url: "https://example.com/a.png", detail: "high" }] });
  });
});
