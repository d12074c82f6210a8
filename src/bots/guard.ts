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
