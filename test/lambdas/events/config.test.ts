/**
 * The event Lambda's whole configuration (lambdas/events/config.ts), parsed once per cold
 * start: its own settings, the purgers' CDN settings and the retry queue's, every problem
 * of all three in one EventsConfigError, secrets never shown.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../core/config";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { EventsConfigError, parseEventsConfig } from "../../../lambdas/events/config";

const SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZg==";
const NEXT_SECRET = "whsec_ZmVkY2JhOTg3NjU0MzIxMA==";
const required = {
  UPSTASH_REDIS_REST_URL: "https://eu1-fine-cat.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "redis-token",
  WEBHOOK_SECRETS: SECRET,
};

function errorOf(env: Record<string, string | undefined>): EventsConfigError {
  try {
    parseEventsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(EventsConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as EventsConfigError;
  }
  throw new Error("the configuration was accepted");
}

describe("parseEventsConfig", () => {
  it("applies defaults: no CDN purges, no retry queue, the default policies", () => {
    expect(parseEventsConfig(required)).toEqual({
      redisUrl: "https://eu1-fine-cat.upstash.io",
      redisToken: "redis-token",
      secrets: [SECRET],
      keyPrefix: "ec",
      policies: DEFAULT_DATA_CLASS_POLICIES,
      purge: { cloudflare: undefined, cloudfront: undefined },
      retryQueue: undefined,
    });
  });

  it("reads the CDN, retry-queue and policy settings into the same object", () => {
    const config = parseEventsConfig({
      ...required,
      WEBHOOK_SECRETS: `${SECRET}, ${NEXT_SECRET}`,
      KEY_PREFIX: "",
      CACHE_POLICIES: '{"gpu":{"l2TtlSeconds":120}}',
      CLOUDFLARE_API_TOKEN: "cf-token",
      CLOUDFLARE_ZONE_ID: "zone",
      CLOUDFLARE_PURGE_CHUNK_SIZE: "50",
      CLOUDFRONT_DISTRIBUTION_ID: "EDIST",
      PURGE_RETRY_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/purge-retry",
    });
    expect(config.secrets).toEqual([SECRET, NEXT_SECRET]);
    expect(config.keyPrefix).toBe("ec");
    expect(config.policies.gpu.l2TtlSeconds).toBe(120);
    expect(config.purge.cloudflare).toMatchObject({ apiToken: "cf-token", zoneId: "zone", chunkSize: 50 });
    expect(config.purge.cloudfront).toMatchObject({ distributionId: "EDIST" });
    expect(config.retryQueue).toEqual({
      queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/purge-retry",
      sqsEndpoint: undefined,
      region: undefined,
    });
  });

  it("names every bad setting of the runtime in one error: its own, the CDN's and the retry queue's", () => {
    const error = errorOf({
      UPSTASH_REDIS_REST_URL: "redis://127.0.0.1:6379",
      WEBHOOK_SECRETS: `${SECRET},not-a-secret,${NEXT_SECRET}`,
      KEY_PREFIX: "bad prefix!",
      CACHE_POLICIES: '{"nope":{}}',
      CLOUDFLARE_PURGE_CHUNK_SIZE: "500",
      PURGE_COALESCE_WINDOW_MS: "soon",
      PURGE_RETRY_QUEUE_URL: "not a url",
    });
    expect(error.message).toMatch(/^invalid event Lambda configuration: /);
    expect(error.problems).toEqual([
      'UPSTASH_REDIS_REST_URL: "redis://127.0.0.1:6379" is not an http(s) URL',
      expect.stringMatching(/^UPSTASH_REDIS_REST_TOKEN: missing/),
      "WEBHOOK_SECRETS: must list 1 to 2 entries, got 3",
      expect.stringMatching(/^WEBHOOK_SECRETS: entry 2 is not a secret like whsec_<base64>/),
      expect.stringMatching(/^KEY_PREFIX: "bad prefix!" is not letters, digits/),
      expect.stringMatching(/^CACHE_POLICIES: unknown data class 'nope'/),
      'CLOUDFLARE_PURGE_CHUNK_SIZE: "500" is not an integer from 1 to 100',
      'PURGE_COALESCE_WINDOW_MS: "soon" is not an integer of at least 0',
      'PURGE_RETRY_QUEUE_URL: "not a url" is not an http(s) URL',
    ]);
  });

  it("never shows a secret in a problem", () => {
    const error = errorOf({
      ...required,
      WEBHOOK_SECRETS: "whsec_short",
      CLOUDFLARE_API_TOKEN: "cf-token-never-shown",
      CLOUDFLARE_MAX_RETRIES: "-1",
    });
    expect(error.message).toContain("WEBHOOK_SECRETS: entry 1");
    expect(error.message).toContain("CLOUDFLARE_MAX_RETRIES");
    for (const secret of ["whsec_short", "cf-token-never-shown", "redis-token"])
      expect(error.message).not.toContain(secret);
  });

  it("reads the Workers Cache purge settings with the others, their problems in the same error", () => {
    const config = parseEventsConfig({
      ...required,
      WORKERS_CACHE_PURGE_URL: "https://edge.example.com/_cache/purge",
      WORKERS_CACHE_PURGE_SECRET: NEXT_SECRET,
      WORKERS_CACHE_PURGE_MIN_TTL_SECONDS: "0",
    });
    expect(config.purge.workersCache).toMatchObject({
      secret: NEXT_SECRET,
      minTtlSeconds: 0,
      windowMs: 12_000,
    });
    expect(
      errorOf({
        ...required,
        KEY_PREFIX: "bad prefix!",
        WORKERS_CACHE_PURGE_URL: "https://edge.example.com/p",
      }).problems,
    ).toEqual([
      expect.stringMatching(/^KEY_PREFIX: /),
      "WORKERS_CACHE_PURGE_SECRET: missing (required with WORKERS_CACHE_PURGE_URL)",
    ]);
  });
});
