/**
 * GET /openapi.json: the API as an OpenAPI 3.1 document, generated from the
 * route table in openapiRoutes.ts and from the same zod schemas the handlers
 * parse their input with (zod 4's own JSON Schema output, whose default
 * dialect, draft 2020-12, is OpenAPI 3.1's).
 */
import { z } from "zod";
import { ConversationCreate, ConversationUpdate, ItemsCreate, ResponseCreate } from "../protocol/openai.ts";
import { ExpiresAfter, ForkCreate, MessageCreate, Metadata, Params, ThreadCreate, ThreadId, ThreadUpdate, TurnCreate } from "../protocol/schemas.ts";
import { ChatCompletionBody, EmbeddingBody } from "./passthrough.ts";
import * as S from "../protocol/shapes.ts";
import { ListQuery, OPERATIONS, type Operation } from "./openapiRoutes.ts";

type Json = Record<string, unknown>;

const ERRORS: Record<number, { description: string; type: string; code: string | null; message: string }> = {
  400: { description: "Invalid request: malformed JSON, wrong types, unknown fields (param names the field)", type: "invalid_request_error", code: null, message: "Unrecognized key: \"colour\"" },
  401: { description: "Missing or wrong API key (or invalid WebSocket ticket)", type: "authentication_error", code: "invalid_api_key", message: "Incorrect API key provided." },
  404: { description: "No such object, or one that belongs to another tenant", type: "not_found_error", code: "not_found", message: "No thread found with id 'thread_demo'." },
  409: { description: "Conflict: the ID exists, the thread is busy (strategy reject), or an Idempotency-Key was reused with another body", type: "conflict_error", code: "thread_busy", message: "A turn is already running on this thread." },
  413: { description: "Over a documented limit; nothing was stored", type: "request_too_large", code: null, message: "Message content is limited to 524288 bytes." },
  429: { description: "The tenant's turns are used up (TURN_LIMIT: 300 turns a minute per tenant, counted per Cloudflare location), or the upstream is over its limit; Retry-After says when to retry", type: "rate_limit_error", code: "rate_limit_exceeded", message: "Rate limit reached: this tenant's turns per 60 seconds are used up (wrangler.toml, TURN_LIMIT)." },
  502: { description: "The upstream model failed, timed out or sent something malformed", type: "upstream_error", code: "upstream_timeout", message: "The upstream did not answer in time." },
  503: { description: "Try again later: a Durable Object answered that it is overloaded (`object_overloaded`, with Retry-After), no upstream is configured (`upstream_not_configured`), or a bot update could not be stored (`bot_update_not_stored`, the platform redelivers it)", type: "server_error", code: "object_overloaded", message: "This thread's Durable Object is overloaded; retry after a pause." },
};

/** Answers that may carry Retry-After: a refused turn (60 s, the limit's period) and an overloaded object (errors.ts). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);
const RETRY_AFTER = { description: "Seconds to wait before retrying (sent on rate limits and on overload)", schema: { type: "integer", minimum: 0 } };

/** Named schemas in components.schemas; any other use of the same zod schema becomes a $ref to it. */
function registry(): { reg: z.core.$ZodRegistry<{ id: string }>; names: Map<z.ZodType, string> } {
  const reg = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  const add = (schema: z.ZodType, id: string) => {
    if (names.has(schema)) return;
    reg.add(schema, { id });
    names.set(schema, id);
  };
  for (const [id, schema] of Object.entries({ Metadata, Params, ExpiresAfter, Usage: S.Usage, Error: S.ErrorResponse, Thread: S.Thread,
    Message: S.Message, Turn: S.Turn, TurnResult: S.TurnResult, Deleted: S.Deleted, WsTicket: S.WsTicket, Conversation: S.Conversation,
    Item: S.Item, Response: S.ResponseObject, Model: S.Model, ThreadList: S.ThreadList, MessageList: S.MessageList, ItemList: S.ItemList,
    ModelList: S.ModelList, ThreadCreate, ThreadUpdate, ForkCreate, MessageCreate, TurnCreate, ConversationCreate, ConversationUpdate,
    ItemsCreate, ResponseCreate, ChatCompletionRequest: ChatCompletionBody, EmbeddingRequest: EmbeddingBody })) add(schema, id);
  // A schema used by a route but not named above would be inlined silently; name it after the route instead.
  for (const op of OPERATIONS) {
    for (const schema of [op.body, op.ok.schema]) if (schema && schema !== S.Opaque) add(schema, `${operationId(op)}Schema`);
  }
  return { reg, names };
}

/** A stable operationId from method and path: `post /v1/threads/{id}/turns` → `postThreadsIdTurns`. */
function operationId(op: Pick<Operation, "method" | "path">): string {
  const words = op.path.replace(/^\/v1\//, "/").split(/[^A-Za-z0-9]+/).filter(Boolean);
  return op.method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

function schemaRef(schema: z.ZodType | undefined, names: Map<z.ZodType, string>): Json {
  if (!schema || schema === S.Opaque) return { type: "object", additionalProperties: true };
  return { $ref: `#/components/schemas/${names.get(schema)}` };
}

function parameters(op: Operation): Json[] {
  const params: Json[] = [];
  for (const [, name] of op.path.matchAll(/\{(\w+)\}/g)) {
    const schema = name === "id" && op.path.startsWith("/v1/threads") ? z.toJSONSchema(ThreadId, { io: "input", unrepresentable: "any" }) : { type: "string" };
    delete (schema as Json).$schema;
    params.push({ name, in: "path", required: true, schema });
  }
  if (op.list) {
    const query = z.toJSONSchema(ListQuery, { io: "input" }) as { properties: Record<string, Json> };
    const about: Record<string, string> = { limit: "1–100, default 20", order: "asc or desc", after: "continue after this ID, in the listing's order", before: "go back before this ID" };
    for (const [name, schema] of Object.entries(query.properties)) params.push({ name, in: "query", required: false, description: about[name], schema });
  }
  for (const [name, q] of Object.entries(op.query ?? {})) params.push({ name, in: "query", required: false, description: q.description, schema: q.schema });
  if (op.idempotent) {
    params.push({ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 256 },
      description: "A retry with the same key returns the first result and creates nothing new (24 hours)." });
  }
  return params;
}

function operation(op: Operation, names: Map<z.ZodType, string>): Json {
  const content: Json = {};
  if (op.ok.schema) content["application/json"] = { schema: schemaRef(op.ok.schema, names), ...(op.ok.example === undefined ? {} : { example: op.ok.example }) };
  if (op.ok.sse) content["text/event-stream"] = { schema: { type: "string", description: op.ok.sse } };
  const responses: Json = { [op.ok.status]: { description: op.ok.description, ...(Object.keys(content).length ? { content } : {}) } };
  for (const status of op.errors) responses[status] = { $ref: `#/components/responses/Error${status}` };
  return {
    operationId: operationId(op),
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.public ? { security: [] } : {}),
    parameters: parameters(op),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": {
      schema: schemaRef(op.body, names), ...(op.bodyExample === undefined ? {} : { example: op.bodyExample }) } } } } : {}),
    responses,
  };
}

/** Builds the whole document. */
export function buildOpenApiDocument(): Json {
  const { reg, names } = registry();
  const { schemas } = z.toJSONSchema(reg, { uri: (id) => `#/components/schemas/${id}`, io: "input", unrepresentable: "any" }) as { schemas: Record<string, Json> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op, names);
  const responses = Object.fromEntries(Object.entries(ERRORS).map(([status, e]) => [`Error${status}`, {
    description: e.description,
    ...(RETRY_AFTER_STATUSES.has(Number(status)) ? { headers: { "Retry-After": RETRY_AFTER } } : {}),
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" }, example: { error: { message: e.message, type: e.type, param: null, code: e.code } } } },
  }]));
  return {
    openapi: "3.1.0",
    info: {
      title: "durable-threads",
      version: "0.1.0",
      description: "Stateful conversation threads for the OpenAI-compatible chat API of Workers AI, one Durable Object per conversation. "
        + "Every `/v1` route takes `Authorization: Bearer <API key>`; errors are `{\"error\":{message,type,param,code}}`; lists are cursor pages.",
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }],
    tags: [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: { schemas, responses, securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key from the API_KEYS secret" } } },
  };
}

let cached: string | undefined;

/** GET /openapi.json (no API key: the document describes the API, not any tenant's data). */
export function openApiDocument(): Response {
  // Built once per isolate: it depends only on the code, never on a request or a tenant.
  cached ??= JSON.stringify(buildOpenApiDocument());
  return new Response(cached, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" } });
}
