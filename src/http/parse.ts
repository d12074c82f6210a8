/** Input parsing at the HTTP boundary: body size, JSON, schema; every failure is an OpenAI-shaped 4xx. */
import type { z } from "zod";
import { BadRequestError, TooLargeError } from "../errors.ts";
import type { Env } from "../env.ts";
import { settingsOf } from "../settings.ts";
import { parseWith } from "../protocol/parse.ts";

/** Reads a JSON body of at most the configured bodyBytes (413 beyond) and parses it with schema. */
export async function parseBody<S extends z.ZodType>(req: Request, env: Env, schema: S): Promise<z.infer<S>> {
  return parseWith(schema, await readJson(req, env));
}

/** Reads the JSON body; an empty body is `{}` so that bodiless POSTs mean "no options". */
export async function readJson(req: Request, env: Env): Promise<unknown> {
  const { bodyBytes } = settingsOf(env).limits;
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > bodyBytes) throw tooLarge(bodyBytes);
  const buf = await req.arrayBuffer();
  if (buf.byteLength > bodyBytes) throw tooLarge(bodyBytes);
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

function tooLarge(bodyBytes: number) {
  return new TooLargeError(`Request body is larger than the limit of ${bodyBytes} bytes (LIMITS.bodyBytes).`);
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
