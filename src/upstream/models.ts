/** What we know about models: context windows and defaults. */

export const DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct";
export const DEV_MODEL = "dev/echo";

/** Context windows in tokens of the models DESIGN.md lists; others get DEFAULT_CONTEXT_WINDOW. */
export const CONTEXT_WINDOWS: Record<string, number> = {
  "@cf/meta/llama-3.1-8b-instruct": 7_968,
  "@cf/meta/llama-3.1-8b-instruct-fast": 128_000,
  "@cf/meta/llama-3.3-70b-instruct-fp8-fast": 24_000,
  "@cf/openai/gpt-oss-120b": 128_000,
  [DEV_MODEL]: 8_192,
};

/** Conservative window for a model we do not know: small enough for any current chat model. */
export const DEFAULT_CONTEXT_WINDOW = 7_968;

/** Reply budget when neither thread nor turn sets max_tokens (Workers AI's own default is only 256). */
export const DEFAULT_MAX_TOKENS = 1_024;

export function contextWindow(model: string): number {
  return CONTEXT_WINDOWS[model] ?? DEFAULT_CONTEXT_WINDOW;
}
