import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { SHORT_FRESH_WINDOWS } from "./test/support/constants.js";

export default defineConfig({
  test: {
    globalSetup: ["test/setup/global-setup.ts"],
    // The Worker logs one record per answered request (workers/telemetry/log.ts); the tests that
    // care read them through the injected logger in workerd (test/workers/telemetry.test.ts), and printing
    // every one would bury the run's own output.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the printed record may carry colour codes.
    onConsoleLog: (log) => !/\bevent: (\u001b\[\d+m)?'(request|audit)'/.test(log),
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
                // Listings as plain aggregates (the views have their own workerd test, which turns
                // them on), and the short fresh windows these tests step through.
                LISTING_VIEWS: "off",
                CACHE_POLICIES: JSON.stringify(SHORT_FRESH_WINDOWS),
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
