import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.ts";
import { planTurn, type PlanRequest } from "../../src/thread/plan.ts";
import { contextWindow, DEFAULT_MAX_TOKENS, DEV_MODEL } from "../../src/upstream/models.ts";
import { estimateTokens } from "../../src/upstream/tokens.ts";

const MODEL = "@cf/meta/llama-3.1-8b-instruct";

function request(over: Partial<PlanRequest> = {}): PlanRequest {
  return { dev: false, model: MODEL, params: {}, instructions: null, inputs: () => ["hello"], maxTokensParam: "params.max_tokens", ...over };
}

function refusal(r: PlanRequest): ApiError {
  try {
    planTurn(r);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("planTurn accepted the request");
}

describe("planTurn", () => {
  it("gives the prompt the window less max_tokens, and sends the other sampling parameters as they are", () => {
    const plan = planTurn(request({ params: { max_tokens: 500, temperature: 0.3, seed: 7 } }));
    expect(plan).toEqual({ model: MODEL, maxTokens: 500, budget: contextWindow(MODEL) - 500, sampling: { temperature: 0.3, seed: 7 } });
  });

  it("uses the default max_tokens when none is asked for", () => {
    expect(planTurn(request()).maxTokens).toBe(DEFAULT_MAX_TOKENS);
  });

  it("names the dev model whatever model was asked for", () => {
    expect(planTurn(request({ dev: true })).model).toBe(DEV_MODEL);
  });

  it("refuses max_tokens that leaves no room in the window, naming the request's own field", () => {
    const window = contextWindow(MODEL);
    const e = refusal(request({ params: { max_tokens: window }, maxTokensParam: "max_output_tokens" }));
    expect(e.status).toBe(400);
    expect(e.body().error).toMatchObject({ param: "max_output_tokens", type: "invalid_request_error" });
  });

  it("checks max_tokens before it reads (and so validates) the input", () => {
    let read = false;
    refusal(request({ params: { max_tokens: contextWindow(MODEL) }, inputs: () => ((read = true), []) }));
    expect(read).toBe(false);
  });

  it("refuses an input that does not fit beside the instructions and max_tokens with context_length_exceeded", () => {
    const window = contextWindow(MODEL);
    const instructions = "be brief ".repeat(200);
    const roomWithout = window - DEFAULT_MAX_TOKENS;
    const roomWith = roomWithout - estimateTokens(instructions);
    // The shortest text that no longer fits once the instructions take their share.
    let words = 1;
    while (estimateTokens("word ".repeat(words)) <= roomWith) words *= 2;
    let lo = words / 2;
    while (lo + 1 < words) {
      const mid = Math.floor((lo + words) / 2);
      if (estimateTokens("word ".repeat(mid)) <= roomWith) lo = mid;
      else words = mid;
    }
    const text = "word ".repeat(words);
    expect(estimateTokens(text)).toBeLessThanOrEqual(roomWithout);
    expect(() => planTurn(request({ inputs: () => [text] }))).not.toThrow();
    const e = refusal(request({ instructions, inputs: () => [text] }));
    expect(e.body().error).toMatchObject({ param: "input", code: "context_length_exceeded" });
  });
});
