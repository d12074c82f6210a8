/** Input parsing at the HTTP boundary: body size, JSON, schema; every failure is an OpenAI-shaped 4xx. */
import { z } from "zod";
import { BadRequestError, TooLargeError } from "../errors.ts";
import { LIMITS } from "../protocol/limits.ts";

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

/** Reads a JSON body of at most LIMITS.bodyBytes bytes (413 beyond) and parses it with schema. */
export async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  return parseWith(schema, await readJson(req));
}

/** Reads the JSON body; an empty body is `{}` so that bodiless POSTs mean "no options". */
export async function readJson(req: Request): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > LIMITS.bodyBytes) throw tooLarge();
  const buf = await req.arrayBuffer();
  if (buf.byteLength > LIMITS.bodyBytes) throw tooLarge();
  if (buf.byteLength === 0) return {};
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw new BadRequestError("The request body is not valid UTF-8.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
    );
  }
}

function tooLarge() {
  return new TooLargeError(`Request body is larger than the limit of ${LIMITS.bodyBytes} bytes (LIMITS.bodyBytes).`);
}

/** The query string as a plain object, for ListQuery and friends; repeated keys are a 400. */
export function queryOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(req.url).searchParams) {
    if (k in out) throw new BadRequestError(`Parameter '${k}' was given more than once.`, k);
    out[k] = v;
  }
  return out;
}
