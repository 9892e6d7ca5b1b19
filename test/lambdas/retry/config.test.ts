/**
 * The purge-retry Lambda's whole configuration (lambdas/retry/config.ts): the queue it
 * consumes is required, and its problems come in one PurgeConfigError with the CDN
 * settings' problems.
 */
import { describe, expect, it } from "vitest";
import { PurgeConfigError } from "../../../lambdas/purge/config";
import { parseRetryLambdaConfig } from "../../../lambdas/retry/config";
import { retryHandlerFromEnv } from "../../../lambdas/retry/handler";

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    parseRetryLambdaConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(PurgeConfigError);
    expect((error as Error).message).toMatch(/^invalid purge-retry Lambda configuration: /);
    return (error as PurgeConfigError).problems;
  }
  throw new Error("the configuration was accepted");
}

describe("parseRetryLambdaConfig", () => {
  it("reads the queue and the CDN settings into one object", () => {
    expect(
      parseRetryLambdaConfig({
        PURGE_RETRY_QUEUE_URL: "http://127.0.0.1:9324/000000000000/purge-retry",
        SQS_ENDPOINT: "http://127.0.0.1:9324",
        CLOUDFRONT_DISTRIBUTION_ID: "EDIST",
        PURGE_COALESCE_WINDOW_MS: "0",
      }),
    ).toEqual({
      retryQueue: {
        queueUrl: "http://127.0.0.1:9324/000000000000/purge-retry",
        sqsEndpoint: "http://127.0.0.1:9324",
        region: undefined,
      },
      purge: {
        cloudflare: undefined,
        cloudfront: { distributionId: "EDIST", endpoint: undefined, coalesceWindowMs: 0 },
        workersCache: undefined,
      },
      redis: undefined,
    });
  });

  it("needs the queue it consumes", () => {
    expect(problemsOf({})).toEqual(["PURGE_RETRY_QUEUE_URL: missing (an http(s) URL)"]);
    expect(problemsOf({ PURGE_RETRY_QUEUE_URL: "" })).toEqual([
      "PURGE_RETRY_QUEUE_URL: missing (an http(s) URL)",
    ]);
  });

  it("names the queue's and the CDN settings' problems together", () => {
    expect(
      problemsOf({
        SQS_ENDPOINT: "::",
        CLOUDFLARE_PURGE_CHUNK_SIZE: "0",
        CLOUDFRONT_ENDPOINT: "ftp://cloudfront",
      }),
    ).toEqual([
      "PURGE_RETRY_QUEUE_URL: missing (an http(s) URL)",
      'SQS_ENDPOINT: "::" is not a URL',
      'CLOUDFLARE_PURGE_CHUNK_SIZE: "0" is not an integer from 1 to 100',
      'CLOUDFRONT_ENDPOINT: "ftp://cloudfront" is not an http(s) URL',
    ]);
  });

  it("reads the queue's redrive maxReceiveCount, which a message cannot tell the handler", () => {
    const queue = { PURGE_RETRY_QUEUE_URL: "http://127.0.0.1:9324/000000000000/purge-retry" };
    expect(parseRetryLambdaConfig(queue).maxReceiveCount).toBeUndefined();
    expect(parseRetryLambdaConfig({ ...queue, PURGE_RETRY_MAX_RECEIVE_COUNT: "7" }).maxReceiveCount).toBe(7);
    expect(problemsOf({ ...queue, PURGE_RETRY_MAX_RECEIVE_COUNT: "0", CLOUDFLARE_MAX_RETRIES: "x" })).toEqual(
      [
        'CLOUDFLARE_MAX_RETRIES: "x" is not an integer of at least 0',
        'PURGE_RETRY_MAX_RECEIVE_COUNT: "0" is not an integer from 1 to 1000',
      ],
    );
  });

  it("the Lambda entry's builder fails with that one error before building anything", () => {
    expect(() => retryHandlerFromEnv({ CLOUDFLARE_MAX_RETRIES: "many" })).toThrow(PurgeConfigError);
    expect(() => retryHandlerFromEnv({ CLOUDFLARE_MAX_RETRIES: "many" })).toThrow(
      /PURGE_RETRY_QUEUE_URL: missing .*; CLOUDFLARE_MAX_RETRIES: "many"/,
    );
  });
});

describe("parseRetryLambdaConfig with Workers Cache", () => {
  const queue = { PURGE_RETRY_QUEUE_URL: "http://127.0.0.1:9324/000000000000/purge-retry" };
  const workersCache = {
    WORKERS_CACHE_PURGE_URL: "https://edge.example.com/_cache/purge",
    WORKERS_CACHE_PURGE_SECRET: "whsec_MDEyMzQ1Njc4OWFiY2RlZg==",
  };

  it("needs Redis for the shared purge bucket, and says so with the other problems", () => {
    expect(problemsOf({ ...queue, ...workersCache, WORKERS_CACHE_BUCKET_PER_MINUTE: "0" })).toEqual([
      'WORKERS_CACHE_BUCKET_PER_MINUTE: "0" is not an integer from 1 to 60000',
      "UPSTASH_REDIS_REST_URL: missing (an http(s) URL)",
      "UPSTASH_REDIS_REST_TOKEN: missing (text)",
    ]);
  });

  it("reads Redis with it, and not without it", () => {
    const redis = {
      UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "t",
      KEY_PREFIX: "gpu",
    };
    expect(parseRetryLambdaConfig({ ...queue, ...workersCache, ...redis })).toMatchObject({
      redis: { redisUrl: "https://eu1-x.upstash.io", redisToken: "t", keyPrefix: "gpu" },
      purge: {
        workersCache: { url: workersCache.WORKERS_CACHE_PURGE_URL, bucketCapacity: 25, bucketPerMinute: 5 },
      },
    });
    expect(parseRetryLambdaConfig({ ...queue, ...redis }).redis).toBeUndefined();
  });
});
