/**
 * Checks objects against OpenAI's own schemas (the OpenAPI spec's
 * `components.schemas`, vendored into openai-responses.schema.json by
 * scripts/vendor-openai-schemas.ts). The validator is @cfworker/json-schema
 * (pinned): an interpreter without `eval`/`new Function`, so the same helper
 * works in workerd tests and in Node. OpenAPI 3.1 schemas are JSON Schema
 * 2020-12; `discriminator` and `x-*` keys are annotations the validator ignores.
 */
import { Validator, type OutputUnit } from "@cfworker/json-schema";
import { expect } from "vitest";
import doc from "./openai-responses.schema.json";

/** Where the vendored document is registered; every `#/components/schemas/…` ref resolves inside it. */
const BASE = "https://spec.invalid/openai.json";

/** The names of the vendored schemas (Response, ResponseStreamEvent, CreateResponse, ResponseFunctionCallArgumentsDeltaEvent, …). */
export const specSchemaNames: readonly string[] = Object.keys(doc.components.schemas);

const validators = new Map<string, Validator>();

function validatorFor(name: string): Validator {
  let v = validators.get(name);
  if (v) return v;
  if (!specSchemaNames.includes(name)) throw new Error(`no vendored spec schema named ${name} (run npm run vendor:spec with it among ROOTS)`);
  v = new Validator({ $id: BASE, $ref: `#/components/schemas/${name}`, components: doc.components } as any, "2020-12", false);
  validators.set(name, v);
  return v;
}

/** The spec's complaints about `value` as the schema `name` (empty when it conforms). */
export function specErrors(name: string, value: unknown): OutputUnit[] {
  const r = validatorFor(name).validate(value);
  return r.valid ? [] : r.errors;
}

/**
 * Fails the test unless `value` conforms to `components.schemas[name]` of
 * OpenAI's spec, e.g. `assertMatchesSpec("Response", body)` or
 * `assertMatchesSpec("ResponseStreamEvent", event)`; the message lists the
 * deepest complaints.
 */
export function assertMatchesSpec(name: string, value: unknown): void {
  const errors = specErrors(name, value);
  if (errors.length === 0) return;
  // The innermost complaints are the useful ones (anyOf over 50 event types says little).
  const deepest = [...errors].sort((a, b) => b.instanceLocation.length - a.instanceLocation.length).slice(0, 8);
  expect.fail(`not a valid ${name}:\n${deepest.map((e) => `  ${e.instanceLocation}: ${e.error}`).join("\n")}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`);
}
