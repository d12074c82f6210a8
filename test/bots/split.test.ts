/** Splitting long replies for chat platforms. */
import { describe, expect, it } from "vitest";
import { splitReply, telegramLength } from "../../src/bots/split.ts";

describe("splitReply", () => {
  it("keeps a reply that fits as one message", () => {
    expect(splitReply("Short answer.", 4096)).toEqual(["Short answer."]);
  });

  it("cuts on the last paragraph break that fits, and the parts rejoin to the reply", () => {
    const paragraphs = Array.from({ length: 8 }, (_, i) => `P${i} ` + "x".repeat(900));
    const text = paragraphs.join("\n\n");
    const parts = splitReply(text, 4096);
    expect(parts.length).toBe(2);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096);
    expect(parts.join("\n\n")).toBe(text);
    expect(parts[0]!.endsWith(paragraphs[3]!)).toBe(true);
  });

  it("falls back to lines, then words, then a hard cut, never splitting a surrogate pair", () => {
    const lines = Array.from({ length: 10 }, () => "y".repeat(30)).join("\n");
    expect(splitReply(lines, 100).every((p) => p.length <= 100 && !p.includes("\n\n"))).toBe(true);
    expect(splitReply("word ".repeat(50).trim(), 32).every((p) => p.length <= 32 && !p.startsWith(" ") && /^(word ?)+$/.test(p))).toBe(true);
    const emoji = "😀".repeat(30);
    const parts = splitReply(emoji, 7);
    expect(parts.join("")).toBe(emoji);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(7);
    expect(parts.every((p) => !/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(p))).toBe(true);
  });

  it("measures with the platform's count (Telegram counts MarkdownV2 escapes)", () => {
    expect(telegramLength("a.b")).toBe(4);
    const dotted = Array.from({ length: 3 }, () => ".".repeat(3000)).join("\n\n");
    for (const p of splitReply(dotted, 4096, telegramLength)) expect(telegramLength(p)).toBeLessThanOrEqual(4096);
  });
});
