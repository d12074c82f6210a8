/** Documented input limits (README, "Limits"); each refusal names the limit it hit. */
export interface Limits {
  bodyBytes: number; contentBytes: number; messagesPerInput: number; metadataPairs: number; metadataKeyChars: number;
  metadataValueChars: number; wsFrameBytes: number; idempotencyKeyChars: number; instructionsBytes: number;
}

/** The defaults; a deployment's own values are in its Settings (settings.ts), parsed once from env. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
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
});

/** The fixed limits (schemas read these); the configurable ones are read from Settings (settings.ts). */
export const LIMITS: Readonly<Limits> = DEFAULT_LIMITS;
