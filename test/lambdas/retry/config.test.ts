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
      },
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

  it("the Lambda entry's builder fails with that one error before building anything", () => {
    expect(() => retryHandlerFromEnv({ CLOUDFLARE_MAX_RETRIES: "many" })).toThrow(PurgeConfigError);
    expect(() => retryHandlerFromEnv({ CLOUDFLARE_MAX_RETRIES: "many" })).toThrow(
      /PURGE_RETRY_QUEUE_URL: missing .*; CLOUDFLARE_MAX_RETRIES: "many"/,
    );
  });
});
