import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Upstream calls go to the mock (test/helpers.ts routes this host to it),
              // with no SDK retries so that an injected fault is seen once.
              bindings: { OPENAI_BASE_URL: "http://mock-upstream.test/v1", OPENAI_API_KEY: "test-key", UPSTREAM_MAX_RETRIES: "0", UPSTREAM_TIMEOUT_MS: "1500" },
            },
          }),
        ],
        test: { name: "workers", testTimeout: 30_000, include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"] },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
