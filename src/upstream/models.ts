/** What we know about models: context windows and defaults. */

export const DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct";
export const DEV_MODEL = "dev/echo";

/** Context windows in tokens of the models DESIGN.md lists; others get DEFAULT_CONTEXT_WINDOW. */
export const CONTEXT_WINDOWS: Record<string, number> = {
  "@cf/meta/llama-3.1-8b-instruct": 7_968,
  "@cf/meta/llama-3.1-8b-instruct-fast": 128_000,
  "@cf/meta/llama-3.3-70b-instruct-fp8-fast": 24_000,
  "@cf/openai/gpt-oss-120b": 128_000,
  // Vision models (image_url parts): "Context Window" on their pages at developers.cloudflare.com/workers-ai/models/.
  "@cf/meta/llama-3.2-11b-vision-instruct": 128_000,
  "@cf/meta/llama-4-scout-17b-16e-instruct": 131_000,
  [DEV_MODEL]: 8_192,
};

/** Conservative window for a model we do not know: small enough for any current chat model. */
export const DEFAULT_CONTEXT_WINDOW = 7_968;

/** Reply budget when neither thread nor turn sets max_tokens (Workers AI's own default is only 256). */
export const DEFAULT_MAX_TOKENS = 1_024;

export function contextWindow(model: string): number {
  return CONTEXT_WINDOWS[model] ?? DEFAULT_CONTEXT_WINDOW;
}

/** Embedding models this deployment lists in GET /v1/models (POST /v1/embeddings passes any model through). */
export const EMBEDDING_MODELS: readonly string[] = ["@cf/baai/bge-large-en-v1.5"];

/** Dimensions of dev/echo's embeddings when the request does not ask for `dimensions`. */
export const DEV_EMBEDDING_DIMENSIONS = 16;

/**
 * The IDs GET /v1/models lists, without duplicates: the known chat models, the
 * default model, the embedding models, then the extra IDs of `extra` (the
 * MODELS setting). dev/echo is listed only when it is the one answering.
 */
export function servedModelIds(opts: { defaultModel?: string | undefined; extra?: string | undefined; dev: boolean }): string[] {
  const chat = Object.keys(CONTEXT_WINDOWS).filter((id) => id !== DEV_MODEL);
  const extra = (opts.extra ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const ids = [...chat, opts.defaultModel || DEFAULT_MODEL, ...EMBEDDING_MODELS, ...extra, DEV_MODEL];
  return [...new Set(ids)].filter((id) => opts.dev || id !== DEV_MODEL);
}

/** Who owns a model, OpenAI's `owned_by`: the publisher in `@cf/<publisher>/…` or `<publisher>/…`. */
export function modelOwner(id: string): string {
  if (id === DEV_MODEL) return "durable-threads";
  const parts = id.split("/");
  if (parts[0]?.startsWith("@") && parts.length >= 3) return parts[1]!;
  return parts.length >= 2 && parts[0] ? parts[0] : "upstream";
}
