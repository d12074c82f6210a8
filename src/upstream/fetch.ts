/** Fetch adapter between the openai SDK and the upstream: Cloudflare's error envelope becomes OpenAI's. */

interface CloudflareEnvelope {
  success: false;
  errors: { code?: number; message?: string }[];
}

function isEnvelope(v: unknown): v is CloudflareEnvelope {
  return typeof v === "object" && v !== null && (v as { success?: unknown }).success === false &&
    Array.isArray((v as { errors?: unknown }).errors);
}

/**
 * Wraps fetch so that error bodies in Cloudflare's envelope
 * (`{"success":false,"errors":[{code,message}]}`) reach the SDK as
 * `{"error":{message,code}}`: the SDK only reads OpenAI's shape and would
 * otherwise report "status code (no body)".
 */
export function normalizingFetch(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.ok) return res;
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: { message: text.slice(0, 500) || `upstream answered ${res.status}` } };
    }
    if (isEnvelope(body)) {
      const first = body.errors[0] ?? {};
      body = { error: { message: first.message ?? "upstream error", code: first.code ?? null, type: "cloudflare_error" } };
    }
    const headers = new Headers(res.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    return new Response(JSON.stringify(body), { status: res.status, statusText: res.statusText, headers });
  };
}
