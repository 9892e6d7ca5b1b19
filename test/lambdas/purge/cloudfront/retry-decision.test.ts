/** Which CreateInvalidation errors the batcher waits out, and which fail a chunk at once. */
import { describe, expect, it } from "vitest";
import { isRetryableCloudFrontError } from "../../../../lambdas/purge/cloudfront/retry-decision";

const sdkError = (name: string, status?: number, fault?: "client" | "server") =>
  Object.assign(new Error(name), {
    name,
    ...(fault ? { $fault: fault } : {}),
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });

describe("isRetryableCloudFrontError", () => {
  it.for([
    ["TooManyInvalidationsInProgress", 400],
    ["Throttling", 400],
    ["ThrottlingException", 400],
    ["RequestLimitExceeded", 400],
    ["InternalError", 500],
    ["ServiceUnavailable", 503],
  ] as const)("retries %s (%i)", ([name, status]) => {
    expect(isRetryableCloudFrontError(sdkError(name, status))).toBe(true);
  });

  it("retries a server fault and an error without any HTTP answer (connection refused, reset)", () => {
    expect(isRetryableCloudFrontError(sdkError("Weird", 400, "server"))).toBe(true);
    expect(isRetryableCloudFrontError(sdkError("ECONNREFUSED"))).toBe(true);
  });

  it.for([
    ["AccessDenied", 403],
    ["InvalidArgument", 400],
    ["NoSuchDistribution", 404],
    ["BatchTooLarge", 413],
  ] as const)("fails %s (%i) at once", ([name, status]) => {
    expect(isRetryableCloudFrontError(sdkError(name, status, "client"))).toBe(false);
  });

  it("does not retry what is not an error object", () => {
    expect(isRetryableCloudFrontError(null)).toBe(false);
    expect(isRetryableCloudFrontError("boom")).toBe(false);
  });
});
