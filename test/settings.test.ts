import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../src/protocol/limits.ts";
import { parseSettings } from "../src/settings.ts";
import { DEFAULT_MODEL } from "../src/upstream/models.ts";

describe("parseSettings", () => {
  it("gives the documented defaults for an empty configuration", () => {
    expect(parseSettings({})).toEqual({
      limits: DEFAULT_LIMITS,
      upstream: { timeoutMs: 60_000, maxRetries: 2 },
      defaultModel: DEFAULT_MODEL,
    });
  });

  it("applies the limit and upstream settings that are valid, and keeps the defaults for the rest", () => {
    const s = parseSettings({ MAX_BODY_BYTES: "2048", MAX_INPUT_MESSAGES: "-3",
      UPSTREAM_TIMEOUT_MS: "0", UPSTREAM_MAX_RETRIES: "x", DEFAULT_MODEL: "@cf/some/model" });
    expect(s.limits).toMatchObject({ bodyBytes: 2048, messagesPerInput: DEFAULT_LIMITS.messagesPerInput });
    expect(s.upstream).toEqual({ timeoutMs: 0, maxRetries: 2 });
    expect(s.defaultModel).toBe("@cf/some/model");
  });

  it("never lets message content near the 2 MB row limit, whatever is configured", () => {
    expect(parseSettings({ MAX_CONTENT_BYTES: "5000000" }).limits.contentBytes).toBe(1_500_000);
  });

  it("leaves the defaults alone: one deployment's settings do not leak into another's", () => {
    parseSettings({ MAX_BODY_BYTES: "10" });
    expect(parseSettings({}).limits.bodyBytes).toBe(DEFAULT_LIMITS.bodyBytes);
  });
});
