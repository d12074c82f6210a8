/** Splitting a long reply into platform-sized messages, on paragraph boundaries where there are any. */

/**
 * Parts of `text`, each measuring at most `limit` by `measure`: cut at the last
 * paragraph break (blank line) that fits, else the last line break, else the
 * last space, else hard at the limit. Joining the parts with the separators
 * that were cut restores the text.
 */
export function splitReply(text: string, limit: number, measure: (s: string) => number = (s) => s.length): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (measure(rest) > limit) {
    const fit = longestPrefix(rest, limit, measure);
    const window = rest.slice(0, fit);
    const cut = lastBreak(window, "\n\n") ?? lastBreak(window, "\n") ?? lastBreak(window, " ") ?? fit;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** The length of the longest prefix of s that measures at most limit (binary search: measure grows with length). */
function longestPrefix(s: string, limit: number, measure: (s: string) => number): number {
  let lo = 1;
  let hi = Math.min(s.length, limit);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(s.slice(0, mid)) <= limit) lo = mid;
    else hi = mid - 1;
  }
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]/.test(s[lo - 1] ?? "")) lo--;
  return Math.max(lo, 1);
}

function lastBreak(window: string, sep: string): number | null {
  const at = window.lastIndexOf(sep);
  // A break in the first quarter would leave a tiny part; a later, coarser break is better.
  return at > window.length / 4 ? at : null;
}

/**
 * Telegram's length of text sent as MarkdownV2: every character Telegram
 * requires escaped takes a backslash more, and the 4,096 limit counts them.
 */
export function telegramLength(s: string): number {
  return s.length + (s.match(/[_*[\]()~`>#+\-=|{}.!\\]/g)?.length ?? 0);
}
