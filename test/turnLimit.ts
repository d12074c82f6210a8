/** The turn limit (per tenant, per minute) the rate-limit tests run under: small, so a test can use it up (vitest.config.ts). */
export const TEST_TURN_LIMIT = 3;
