import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_TURN_LIMIT } from "./test/turnLimit.ts";

/** The Worker as wrangler.toml describes it, with test settings and the given per-tenant turn limit. */
function worker(turnLimit: number) {
  return cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      // Upstream calls go to the mock (test/helpers.ts routes this host to it),
      // with no SDK retries so that an injected fault is seen once.
      bindings: { OPENAI_BASE_URL: "http://mock-upstream.test/v1", OPENAI_API_KEY: "test-key", UPSTREAM_MAX_RETRIES: "0", UPSTREAM_TIMEOUT_MS: "1500",
        // Tenants for the tests (test/helpers.ts sends the "local" key by default); the
        // last key is given as its digest: sha256("sk-carol").
        API_KEYS: JSON.stringify({
          "sk-test-local": "local", "sk-alice": "alice", "sk-bob": "bob",
          "sha256:1d0e7afc963efdf084924177294d02cc02800e540bf46e7b846529396be4eddf": "carol",
        }) },
      // Replaces wrangler.toml's TURN_LIMIT (same name), which the local engine enforces too.
      ratelimits: { TURN_LIMIT: { namespace_id: "1001", simple: { limit: turnLimit, period: 60 } } },
    },
  });
}

const RATE_LIMIT_TESTS = "test/http/ratelimit.test.ts";

export default defineConfig({
  test: {
    projects: [
      {
        // A limit no test reaches: these tests run many turns as one tenant.
        plugins: [worker(1_000_000)],
        test: { name: "workers", testTimeout: 30_000, include: ["test/**/*.test.ts"], exclude: ["test/e2e/**", "test/browser/**", RATE_LIMIT_TESTS] },
      },
      {
        plugins: [worker(TEST_TURN_LIMIT)],
        test: { name: "ratelimit", testTimeout: 30_000, include: [RATE_LIMIT_TESTS] },
      },
      {
        test: {
          name: "e2e",
          // Browser tests drive Chromium against the same kind of Worker; one file at a time with the e2e ones.
          include: ["test/e2e/**/*.test.ts", "test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
