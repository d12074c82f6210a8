/** Checks made before Chat SDK sees a request, where it would otherwise call the platform for an unverified one. */

const enc = new TextEncoder();

async function digest(s: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", enc.encode(s));
}

/**
 * Whether the request carries Telegram's secret token. Chat SDK's adapter checks
 * it too, but only after initialising, which calls getMe on the Bot API: checked
 * here first, an unauthenticated request costs nothing. Digests are compared so
 * that the comparison takes the same time whatever the length.
 */
export async function hasTelegramSecret(req: Request, secret: string): Promise<boolean> {
  const sent = req.headers.get("x-telegram-bot-api-secret-token");
  if (sent === null) return false;
  return crypto.subtle.timingSafeEqual(await digest(sent), await digest(secret));
}

/** Slack refuses requests whose timestamp is more than 5 minutes from now (replays). */
const SLACK_MAX_SKEW_S = 5 * 60;

/**
 * Whether the request carries a valid Slack v0 signature: `v0=` + hex
 * HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{body}` under the signing
 * secret, with the timestamp within 5 minutes. Chat SDK's adapter checks it
 * too, but only after initialising, which calls auth.test: checked here first,
 * a forged request costs no Web API call. Compared as digests, in constant time.
 */
export async function hasSlackSignature(req: Request, signingSecret: string): Promise<boolean> {
  const timestamp = req.headers.get("x-slack-request-timestamp");
  const sent = req.headers.get("x-slack-signature");
  if (!timestamp || !sent || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SLACK_MAX_SKEW_S) return false;
  const key = await crypto.subtle.importKey("raw", enc.encode(signingSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, enc.encode(`v0:${timestamp}:${await req.clone().text()}`));
  const expected = `v0=${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  return crypto.subtle.timingSafeEqual(await digest(sent), await digest(expected));
}
