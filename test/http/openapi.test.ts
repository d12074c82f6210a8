import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { errorResponse } from "../../src/errors.ts";
import { OPERATIONS } from "../../src/http/openapiRoutes.ts";
import { routeTable } from "../../src/index.ts";
import { ThreadCreate, TurnCreate } from "../../src/protocol/schemas.ts";
import { ResponseCreate } from "../../src/protocol/openai.ts";
import * as S from "../../src/protocol/shapes.ts";
import { Platform } from "../../src/bots/config.ts";

/** The router serves every platform's webhook with one route; the document gives each platform its own path. */
const expandWebhooks = (route: string) =>
  route === "POST /webhooks/{platform}" ? Platform.options.map((p) => `POST /webhooks/${p}`) : [route];

async function fetchDocument(): Promise<any> {
  // No Authorization header: the document is public.
  const res = await exports.default.fetch("http://worker.test/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return res.json();
}

/** A document schema with its $refs to components replaced by what they name (no cycles among ours). */
function inline(schema: unknown, doc: any): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, doc));
  if (schema === null || typeof schema !== "object") return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref) return inline(doc.components.schemas[ref.replace("#/components/schemas/", "")], doc);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v, doc)]));
}

/** `/v1/threads/:id` and `/v1/models/:model+` in the router are `/v1/threads/{id}` and `/v1/models/{model}` in the document. */
const toOpenApiPath = (path: string) => path.replace(/:(\w+)\+?/g, "{$1}");

describe("GET /openapi.json", () => {
  it("documents every route the router serves and no route it does not (one path per bot platform)", async () => {
    const doc = await fetchDocument();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    const routed = routeTable().flatMap((r) => expandWebhooks(`${r.method} ${toOpenApiPath(r.path)}`));
    expect(routed.length).toBeGreaterThan(30);
    expect(new Set(routed).size).toBe(routed.length);
    expect(routed).toContain("POST /webhooks/telegram");
    expect([...documented].sort()).toEqual([...routed].sort());
  });

  it("describes request bodies with the very schemas the handlers parse with", async () => {
    const doc = await fetchDocument();
    const inputSchema = (s: z.ZodType) => {
      const { $schema: _, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
      return rest;
    };
    expect(doc.paths["/v1/threads"].post.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ThreadCreate" });
    expect(inline(doc.components.schemas.ThreadCreate, doc)).toEqual(inputSchema(ThreadCreate));
    expect(inline(doc.components.schemas.TurnCreate, doc)).toEqual(inputSchema(TurnCreate));
    // TurnCreate nests MessageCreate, which the document names once and refers to.
    expect(JSON.stringify(doc.components.schemas.TurnCreate)).toContain('"$ref":"#/components/schemas/MessageCreate"');
    expect(doc.components.schemas.TurnCreate.properties.strategy).toEqual(inputSchema(TurnCreate.shape.strategy));
    expect(Object.keys(doc.components.schemas.ResponseCreate.properties).sort()).toEqual(Object.keys(ResponseCreate.shape).sort());
    // Unknown fields are a 400, and the document says so.
    expect(doc.components.schemas.ThreadCreate.additionalProperties).toBe(false);
  });

  it("gives every request example in a shape its handler accepts, and every native answer's example in its documented shape", () => {
    for (const op of OPERATIONS) {
      if (op.bodyExample !== undefined) expect(op.body!.safeParse(op.bodyExample).error, `${op.method} ${op.path} body example`).toBeUndefined();
      if (op.ok.example !== undefined && op.ok.schema) {
        expect(op.ok.schema.safeParse(op.ok.example).error, `${op.method} ${op.path} answer example`).toBeUndefined();
      }
    }
  });

  it("lists each route's error answers in the OpenAI error shape, and marks the public routes", async () => {
    const doc = await fetchDocument();
    const turn = doc.paths["/v1/threads/{id}/turns"].post;
    expect(Object.keys(turn.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404", "409", "413", "429", "502"]));
    expect(Object.keys(turn.responses["200"].content)).toEqual(["application/json", "text/event-stream"]);
    const e404 = doc.components.responses.Error404.content["application/json"];
    expect(S.ErrorResponse.safeParse(e404.example).success).toBe(true);
    expect(e404.example.error.type).toBe("not_found_error");
    expect(doc.paths["/webhooks/telegram"].post.security).toEqual([]);
    expect(doc.paths["/v1/threads"].get.security).toBeUndefined();
    expect(doc.security).toEqual([{ apiKey: [] }]);
  });

  it("lists 503 on every route that reaches a Durable Object, and Retry-After on 429 and 503 as the Worker sends it", async () => {
    const doc = await fetchDocument();
    const reachesAnObject = OPERATIONS.filter((op) => !["Pass-through", "Meta"].includes(op.tag));
    expect(reachesAnObject.map((op) => `${op.method} ${op.path}`)).toContain("post /webhooks/slack");
    for (const op of reachesAnObject) {
      expect(doc.paths[op.path][op.method].responses["503"], `${op.method} ${op.path}`).toEqual({ $ref: "#/components/responses/Error503" });
    }
    const e503 = doc.components.responses.Error503;
    // The document's example is what the Worker answers for an overloaded object, header included.
    const overloaded = errorResponse(Object.assign(new Error("Durable Object is overloaded."), { overloaded: true }));
    expect(e503.content["application/json"].example).toEqual(await overloaded.json());
    expect(overloaded.headers.get("retry-after")).not.toBeNull();
    expect(e503.description).toContain("bot_update_not_stored");
    for (const status of ["429", "503"]) expect(Object.keys(doc.components.responses[`Error${status}`].headers)).toEqual(["Retry-After"]);
    expect(doc.components.responses.Error429.description).toContain("300 turns a minute per tenant");
  });

  it("answers what the document says about a real request: a thread's shape and a 404's", async () => {
    const doc = await fetchDocument();
    expect(doc.paths["/v1/threads/{id}"].get.responses["404"]).toEqual({ $ref: "#/components/responses/Error404" });
    const headers = { "content-type": "application/json", Authorization: "Bearer sk-test-local" };
    const created = await exports.default.fetch("http://worker.test/v1/threads", { method: "POST", headers, body: "{}" });
    expect(created.status).toBe(201);
    expect(S.Thread.strict().safeParse(await created.json()).error).toBeUndefined();
    const missing = await exports.default.fetch("http://worker.test/v1/threads/no-such-thread", { headers });
    expect(missing.status).toBe(404);
    expect(S.ErrorResponse.safeParse(await missing.json()).success).toBe(true);
  });
});
