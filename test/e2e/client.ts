/** A client for the Worker's HTTP API as an outside caller sees it: JSON calls, SSE frames, OpenAI error shapes. */

export interface ApiResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON client bound to a base URL: a body object is sent as JSON, a string as it is. */
export function apiClient(base: string, defaults: Record<string, string> = {}) {
  return async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult<T>> {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...defaults, ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

export type Api = ReturnType<typeof apiClient>;

export interface SseFrame {
  event: string;
  id: string | null;
  data: any;
  /** performance.now() when the frame's last byte arrived. */
  at: number;
}

/** Reads a Server-Sent Events body frame by frame as it arrives (`event:`, `id:`, `data:` lines; blank line ends a frame). */
export async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame = parseFrame(block, performance.now());
      if (frame) yield frame;
    }
  }
  if (buffer.trim() !== "") throw new Error(`SSE body ended inside a frame: ${JSON.stringify(buffer)}`);
}

function parseFrame(block: string, at: number): SseFrame | null {
  let event = "message";
  let id: string | null = null;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  return { event, id, data: JSON.parse(data.join("\n")), at };
}

/** Asserts the OpenAI error shape `{"error":{message,type,param,code}}` and returns the error. */
export function openAiError(r: ApiResult): { message: string; type: string; param: string | null; code: string | null } {
  const e = r.body?.error;
  const ok = e && typeof e.message === "string" && typeof e.type === "string" && "param" in e && "code" in e &&
    Object.keys(r.body).length === 1;
  if (!ok) throw new Error(`not an OpenAI-shaped error (${r.status}): ${JSON.stringify(r.body)}`);
  return e;
}

let counter = 0;
/** A thread ID unique to this process. */
export function uniqueId(prefix = "e2e"): string {
  return `${prefix}-${Date.now().toString(36)}-${process.pid.toString(36)}-${(counter++).toString(36)}`;
}

/** Rejects with a message naming what did not happen in time; every wait in the e2e tests is bounded. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
