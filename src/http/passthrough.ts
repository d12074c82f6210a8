/**
 * The stateless OpenAI-compatible surface: POST /v1/chat/completions and
 * POST /v1/embeddings go to the upstream as they came (no thread, no storage),
 * GET /v1/models lists what this deployment serves.
 */
import type { IRequest } from "itty-router";
import type OpenAI from "openai";
import { z } from "zod";
import type { Env } from "../env.ts";
import { BadRequestError, NotFoundError, UpstreamError } from "../errors.ts";
import { settingsOf } from "../settings.ts";
import { upstreamFor } from "../upstream/client.ts";
import { mapUpstreamError } from "../upstream/errors.ts";
import { DEFAULT_MAX_TOKENS, modelOwner, servedModelIds } from "../upstream/models.ts";
import { relaySse } from "../upstream/relay.ts";
import { parseWith } from "../protocol/parse.ts";
import { readJson } from "./parse.ts";
import { SSE_HEADERS } from "./turns.ts";

/** What we check before passing a chat request on; every other field goes to the upstream untouched. */
export const ChatCompletionBody = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()).min(1),
  stream: z.boolean().nullish(),
});

/** What we check before passing an embeddings request on. */
export const EmbeddingBody = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string().min(1), z.array(z.unknown()).min(1)]),
});

/** POST /v1/chat/completions: the client's body to the upstream's /chat/completions, the answer back as JSON or SSE. */
export async function chatCompletionCreate(req: IRequest, env: Env): Promise<Response> {
  const body = await readJsonObject(req, env);
  parseWith(ChatCompletionBody, body);
  // Always send a reply budget: Workers AI cuts replies at 256 tokens when the
  // request names none. A client's own max_tokens or max_completion_tokens wins (null counts as none).
  const request = body.max_tokens == null && body.max_completion_tokens == null ? { ...body, max_tokens: DEFAULT_MAX_TOKENS } : body;
  const { client } = upstreamFor(env);
  // asResponse() hands back the upstream's bytes unparsed, after the SDK has
  // retried and turned a non-2xx answer into an APIError (mapped below).
  const res = await upstreamCall(() => client.chat.completions.create(request as unknown as OpenAI.Chat.ChatCompletionCreateParams).asResponse());
  if (request.stream !== true) return relayJson(res);
  if (!res.body || res.headers.get("content-type")?.includes("application/json")) {
    throw new UpstreamError("The upstream model answered a streaming request without a stream.", "upstream_malformed");
  }
  return new Response(relaySse(res.body, settingsOf(env).upstream.timeoutMs), { headers: SSE_HEADERS });
}

/** POST /v1/embeddings: the client's body to the upstream's /embeddings, the answer back as it came. */
export async function embeddingCreate(req: IRequest, env: Env): Promise<Response> {
  const body = await readJsonObject(req, env);
  parseWith(EmbeddingBody, body);
  const { client } = upstreamFor(env);
  // Not client.embeddings.create(): without an encoding_format it asks the
  // upstream for base64 and decodes it, so the upstream would not receive what
  // our client sent, nor our client receive what the upstream answered.
  return relayJson(await upstreamCall(() => client.post("/embeddings", { body }).asResponse()));
}

/** GET /v1/models: the chat models, the default model, the embedding models and MODELS; dev/echo when it answers. */
export async function modelList(_req: IRequest, env: Env): Promise<Response> {
  const data = servedModels(env).map(modelObject);
  return Response.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
}

/** GET /v1/models/{model}: one served model. IDs contain slashes, sent raw or as %2F (the openai SDK encodes them). */
export async function modelRetrieve(req: IRequest, env: Env): Promise<Response> {
  let id: string;
  try {
    id = decodeURIComponent(req.params.model ?? "");
  } catch {
    throw new BadRequestError("The model ID in the path is not valid percent-encoding.", "model");
  }
  if (!servedModels(env).includes(id)) throw new NotFoundError(`The model '${id}' does not exist or is not served here.`, "model");
  return Response.json(modelObject(id));
}

/** The model IDs this deployment serves; dev/echo only when it is the model answering. */
function servedModels(env: Env): string[] {
  let dev = false;
  try {
    dev = upstreamFor(env).dev;
  } catch {
    // No upstream configured: still list the configured models; calling them answers 503.
  }
  return servedModelIds({ defaultModel: env.DEFAULT_MODEL, extra: env.MODELS, dev });
}

/** OpenAI's model object. There is no creation time to report for an upstream's model, so `created` is 0. */
function modelObject(id: string) {
  return { id, object: "model", created: 0, owned_by: modelOwner(id) } satisfies OpenAI.Models.Model;
}

/** A JSON body that is an object (400 otherwise, like every body in parse.ts). */
async function readJsonObject(req: Request, env: Env): Promise<Record<string, unknown>> {
  const body = await readJson(req, env);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestError("The request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/** Runs an upstream call; whatever it throws becomes the OpenAI-shaped 502/429/400 of mapUpstreamError. */
async function upstreamCall(call: () => Promise<Response>): Promise<Response> {
  try {
    return await call();
  } catch (err) {
    throw mapUpstreamError(err);
  }
}

/** The upstream's JSON answer, passed back byte for byte once it is known to be JSON. */
async function relayJson(res: Response): Promise<Response> {
  let text: string;
  try {
    text = await res.text();
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object");
  } catch (err) {
    throw new UpstreamError(`The upstream answer could not be read: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500), "upstream_malformed");
  }
  return new Response(text, { status: res.status, headers: { "content-type": "application/json" } });
}
