/** Small encodings used across the Worker: base64url, UTF-8 sizes, random IDs. */

const enc = new TextEncoder();

/** base64url without padding, of bytes or of a string's UTF-8. */
export function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join("")).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of a base64url string; throws on malformed input. */
export function unb64url(s: string): Uint8Array {
  return Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

/** The well-formed UTF-8 text of a base64url string, or null. */
export function unb64urlText(s: string): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(unb64url(s));
  } catch {
    return null;
  }
}

/**
 * Whether s is at most limit bytes of UTF-8. A UTF-16 unit is at most 3 bytes,
 * so the (allocating) encode only happens when the length alone cannot tell.
 */
export function fitsUtf8(s: string, limit: number): boolean {
  return s.length * 3 <= limit || enc.encode(s).length <= limit;
}

const BASE36_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** n random characters of [a-z0-9]. */
export function randomBase36(n: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => BASE36_DIGITS[b % 36]).join("");
}
