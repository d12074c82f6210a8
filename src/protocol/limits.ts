/** Documented input limits (README, "Limits"); each refusal names the limit it hit. */
export const LIMITS: {
  bodyBytes: number; contentBytes: number; messagesPerInput: number; metadataPairs: number; metadataKeyChars: number;
  metadataValueChars: number; wsFrameBytes: number; idempotencyKeyChars: number; instructionsBytes: number;
} = {
  /** Largest request body accepted, in bytes. */
  bodyBytes: 1_048_576,
  /** Largest message content, in UTF-8 bytes: well under the 2 MB Durable Object row limit. */
  contentBytes: 524_288,
  /** Most messages in one turn's `input` list. */
  messagesPerInput: 100,
  /** Metadata: at most 16 pairs, keys up to 64 and values up to 512 characters (OpenAI's rule). */
  metadataPairs: 16,
  metadataKeyChars: 64,
  metadataValueChars: 512,
  /** Largest WebSocket frame accepted from a client, in bytes. */
  wsFrameBytes: 1_048_576,
  /** Longest Idempotency-Key header or WebSocket request_id. */
  idempotencyKeyChars: 256,
  /** Longest instructions, in UTF-8 bytes. */
  instructionsBytes: 262_144,
};

/** Settings that override the defaults above (README, "Limits"). */
const SETTINGS = {
  MAX_BODY_BYTES: "bodyBytes",
  MAX_CONTENT_BYTES: "contentBytes",
  MAX_INPUT_MESSAGES: "messagesPerInput",
} as const;

const DEFAULTS = { ...LIMITS };
const HARD_CONTENT_MAX = 1_500_000; // stays below the 2 MB Durable Object row limit whatever is configured

/**
 * Applies the limit settings of this deployment (positive integers; others are
 * ignored). Configuration, not user data, so holding it at module level is fine.
 */
export function applyLimitSettings(env: Record<string, unknown>): void {
  for (const [name, key] of Object.entries(SETTINGS)) {
    const raw = env[name];
    const n = typeof raw === "string" ? Number(raw) : NaN;
    LIMITS[key] = Number.isInteger(n) && n > 0 ? n : DEFAULTS[key];
  }
  LIMITS.contentBytes = Math.min(LIMITS.contentBytes, HARD_CONTENT_MAX);
}
