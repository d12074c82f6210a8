/**
 * A structural check that a value is a usable JSON Schema (drafts 7 to 2020-12,
 * which clients emit: zod's converters write `$schema` draft-07 or 2020-12).
 * Not a metaschema validation: it checks the keywords an upstream actually
 * reads for tool parameters and structured output, so that a typo such as
 * `type: "objekt"` or `required: "city"` is a 400 here instead of an upstream error.
 */

const TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);
/** Keywords whose value is a map of subschemas. */
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
/** Keywords whose value is one subschema (`items` may also be a list in draft 7). */
const SCHEMA_ONE = ["additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "additionalItems",
  "unevaluatedProperties", "unevaluatedItems", "items"];
/** Keywords whose value is a non-empty list of subschemas. */
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const COUNTS = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"];
const NUMBERS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
/** Deeper nesting than this is refused (a schema is data from the client; recursion must end). */
export const MAX_SCHEMA_DEPTH = 32;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The first problem found in `schema`, as a message naming the JSON Pointer of
 * the offending keyword (e.g. `/properties/city/type: unknown type "strng"`), or
 * null when it is a usable JSON Schema.
 */
export function jsonSchemaProblem(schema: unknown, path = "", depth = 0): string | null {
  if (typeof schema === "boolean") return null;
  if (!isObject(schema)) return `${path || "/"}: a schema must be an object or a boolean`;
  if (depth > MAX_SCHEMA_DEPTH) return `${path}: nested deeper than ${MAX_SCHEMA_DEPTH} levels`;
  const at = (k: string) => `${path}/${k}`;

  if ("type" in schema) {
    const t = schema.type;
    const list = Array.isArray(t) ? t : [t];
    if (list.length === 0) return `${at("type")}: must not be empty`;
    for (const one of list) if (typeof one !== "string" || !TYPES.has(one)) return `${at("type")}: unknown type ${JSON.stringify(one)}`;
    if (new Set(list).size !== list.length) return `${at("type")}: repeats a type`;
  }
  if ("required" in schema && (!Array.isArray(schema.required) || schema.required.some((r) => typeof r !== "string"))) {
    return `${at("required")}: must be a list of property names`;
  }
  if ("enum" in schema && !Array.isArray(schema.enum)) return `${at("enum")}: must be a list`;
  for (const k of ["$ref", "$schema", "$id", "title", "description", "format"]) {
    if (k in schema && typeof schema[k] !== "string") return `${at(k)}: must be a string`;
  }
  if ("pattern" in schema) {
    if (typeof schema.pattern !== "string") return `${at("pattern")}: must be a string`;
    try {
      new RegExp(schema.pattern, "u");
    } catch {
      return `${at("pattern")}: not a valid regular expression`;
    }
  }
  for (const k of COUNTS) {
    if (k in schema && !(Number.isInteger(schema[k]) && (schema[k] as number) >= 0)) return `${at(k)}: must be a non-negative integer`;
  }
  for (const k of NUMBERS) if (k in schema && typeof schema[k] !== "number") return `${at(k)}: must be a number`;

  for (const k of SCHEMA_MAPS) {
    if (!(k in schema)) continue;
    const map = schema[k];
    if (!isObject(map)) return `${at(k)}: must be an object of schemas`;
    for (const [name, sub] of Object.entries(map)) {
      const problem = jsonSchemaProblem(sub, `${at(k)}/${name}`, depth + 1);
      if (problem) return problem;
    }
  }
  for (const k of SCHEMA_ONE) {
    if (!(k in schema)) continue;
    const subs = k === "items" && Array.isArray(schema.items) ? schema.items : [schema[k]];
    for (const [i, sub] of subs.entries()) {
      const problem = jsonSchemaProblem(sub, subs.length > 1 || Array.isArray(schema[k]) ? `${at(k)}/${i}` : at(k), depth + 1);
      if (problem) return problem;
    }
  }
  for (const k of SCHEMA_LISTS) {
    if (!(k in schema)) continue;
    const list = schema[k];
    if (!Array.isArray(list) || list.length === 0) return `${at(k)}: must be a non-empty list of schemas`;
    for (const [i, sub] of list.entries()) {
      const problem = jsonSchemaProblem(sub, `${at(k)}/${i}`, depth + 1);
      if (problem) return problem;
    }
  }
  return null;
}
