/** Token estimates for the context builder: a deliberate over-estimate, so a prompt never overflows. */

const PER_MESSAGE_OVERHEAD = 4;

/**
 * Estimated tokens of a text. Llama-family tokenizers average about 4 characters
 * per token on English; we count 3 (and every non-ASCII UTF-16 unit as one), so
 * the estimate stays above the real count for code, numbers and other scripts.
 */
export function estimateTokens(text: string): number {
  let nonAscii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) nonAscii++;
  return Math.ceil((text.length - nonAscii) / 3) + nonAscii + PER_MESSAGE_OVERHEAD;
}
