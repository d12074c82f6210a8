/**
 * Copies from OpenAI's OpenAPI spec (../shared/reference/openai-openapi.yaml, or
 * the path given as the first argument) the `components.schemas` that describe
 * a Response, every Responses streaming event, a CreateResponse request and the
 * Conversations objects, with everything they reference, into
 * test/spec/openai-responses.schema.json. Tests validate against that committed
 * copy (test/spec/spec.ts), so `npm test` never needs ../shared.
 * Run: `npm run vendor:spec`. Parser: `yaml` (pinned in package.json).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// ../shared beside the repo; a git worktree under …/wt/NAME finds it one level further up.
const candidates = [`${ROOT}../shared/reference/openai-openapi.yaml`, `${ROOT}../../shared/reference/openai-openapi.yaml`];
const source = process.argv[2] ?? candidates.find((p) => existsSync(p)) ?? candidates[0]!;
const out = `${ROOT}test/spec/openai-responses.schema.json`;

/** The schemas tests check against; everything they reference comes along. */
const ROOTS = [
  "Response", "ResponseStreamEvent", "CreateResponse", "ResponseItemList",
  "ConversationResource", "ConversationItem", "ConversationItemList", "DeletedConversationResource", "Error",
];

const spec = parse(readFileSync(source, "utf8"), { maxAliasCount: -1 }) as { openapi: string; info: { version: string }; components: { schemas: Record<string, unknown> } };
const all = spec.components.schemas;
const picked: Record<string, unknown> = {};

/** Every `#/components/schemas/NAME` reference inside a value. */
function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) found.add(v.slice("#/components/schemas/".length));
      else refsIn(v, found);
    }
  }
  return found;
}

const queue = [...ROOTS];
while (queue.length > 0) {
  const name = queue.pop()!;
  if (name in picked) continue;
  if (!(name in all)) throw new Error(`the spec has no components.schemas.${name}`);
  picked[name] = all[name];
  for (const ref of refsIn(all[name], new Set())) if (!(ref in picked)) queue.push(ref);
}

/**
 * OpenAPI's `oneOf` means "one of these shapes" (told apart by `type`), but some
 * alternatives overlap: `{role:"user", content:[…]}` fits both EasyInputMessage
 * and InputMessage, and JSON Schema's exclusive `oneOf` would then reject a
 * documented request. So `oneOf` is copied as `anyOf`.
 */
function oneOfAsAnyOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(oneOfAsAnyOf);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === "oneOf" ? "anyOf" : k, oneOfAsAnyOf(v)]));
}

const sorted = Object.fromEntries(Object.keys(picked).sort().map((k) => [k, oneOfAsAnyOf(picked[k])]));
const doc = {
  $comment: `Vendored by scripts/vendor-openai-schemas.ts from OpenAI's OpenAPI ${spec.openapi} spec, version ${spec.info.version}; roots: ${ROOTS.join(", ")}; oneOf copied as anyOf. Do not edit by hand.`,
  components: { schemas: sorted },
};
writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
console.log(`${Object.keys(sorted).length} schemas written to ${out}`);
