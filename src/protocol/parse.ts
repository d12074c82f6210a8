/** Parsing a value with a schema: the one place a zod issue becomes an OpenAI-shaped 400 naming its field. */
import { z } from "zod";
import { BadRequestError } from "../errors.ts";

/** The first schema issue as a 400 whose `param` names the field (`input[2].role`). */
export function schemaError(err: z.ZodError, prefix = ""): BadRequestError {
  let issue = err.issues[0]!;
  let unionPath: PropertyKey[] = [];
  // For a union (input: string | message[]), report the branch that got furthest into the value.
  while (issue.code === "invalid_union" && issue.errors.length > 0) {
    const best = issue.errors
      .map((branch) => branch[0])
      .filter((i): i is z.core.$ZodIssue => i !== undefined)
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (!best || best.path.length === 0) {
      // No branch got inside the value: prefer a branch that says more than "wrong type".
      const informative = issue.errors.map((b) => b[0]).find((i) => i !== undefined && i.code !== "invalid_type");
      if (informative) {
        unionPath = [...unionPath, ...issue.path];
        issue = informative;
      }
      break;
    }
    unionPath = [...unionPath, ...issue.path];
    issue = best;
  }
  let path = [...unionPath, ...issue.path].map(String);
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    path = [...path, issue.keys[0]!];
    message = `Unknown parameter: '${issue.keys.join("', '")}'.`;
  } else if (issue.code === "invalid_type" && issue.input === undefined) {
    message = "Missing required parameter.";
  }
  const param = formatPath(prefix ? [prefix, ...path] : path);
  const text = message.startsWith("Unknown parameter") ? message : `Invalid '${param || "body"}': ${message}`;
  return new BadRequestError(text, param || null);
}

function formatPath(path: string[]): string {
  return path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

/** Parses a value with a schema, throwing a 400 that names the offending field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ""): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw schemaError(r.error, prefix);
  return r.data;
}
