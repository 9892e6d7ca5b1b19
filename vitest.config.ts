import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["test/setup/global-setup.ts"],
    // Performance hints print after the summary; CI reads the summary as the last lines.
    experimental: {
      diagnostics: { environment: false, import: false, isolate: false, transform: false },
    },
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          // Worker code runs in workerd (the project below), as it does when deployed.
          exclude: ["test/workers/**"],
          environment: "node",
          // Test files build their own state (stores, bridges, key prefixes), so one worker can run several.
          isolate: false,
        },
      },
      {
        extends: true,
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // The test runner itself imports node:* modules; the deployed Worker does not need this flag.
              compatibilityFlags: ["nodejs_compat"],
              bindings: {
                UPSTASH_REDIS_REST_URL: inject("bridgeUrl"),
                UPSTASH_REDIS_REST_TOKEN: inject("bridgeToken"),
                ORIGIN_URL: inject("originUrl"),
                TEST_REDIS_BACKEND: inject("bridgeBackend"),
                TEST_PURGE_RECORDER_URL: inject("purgeRecorderUrl"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
        },
      },
    ],
  },
});
