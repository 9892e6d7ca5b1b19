/**
 * CloudFront work that goes through the retry queue (lambdas/retry/) as `PurgeRetry`
 * descriptions. Merging is the one rule for both ends: the event Lambda defers a whole
 * delivery's paths as one description, and the retry handler replays all of a batch's
 * descriptions for a distribution as one. The merged batch key is derived from the
 * contributors' keys, so the same set of contributors (a redelivered or retried batch)
 * yields the same CallerReference (./caller-reference.ts): one invalidation, not two.
 */
import { normaliseInvalidationPaths } from "../../../core/purge-paths";
import type { Logger } from "../../shared/logger";
import type { PurgeOptions, PurgeRetry } from "../purger";
import { combinedBatchKey } from "./caller-reference";
import { cloudFrontInvalidationPaths } from "./invalidation-paths";

export type CloudFrontRetry = Extract<PurgeRetry, { provider: "cloudfront" }>;

/** One retry for the union of `retries`' paths; all of them must name the same distribution. */
export function mergeCloudFrontRetries(retries: readonly CloudFrontRetry[]): CloudFrontRetry {
  const [first] = retries;
  if (!first) throw new RangeError("mergeCloudFrontRetries needs at least one retry");
  const other = retries.find((retry) => retry.distributionId !== first.distributionId);
  if (other)
    throw new RangeError(
      `cannot merge retries for distributions ${first.distributionId} and ${other.distributionId}`,
    );
  return {
    provider: "cloudfront",
    distributionId: first.distributionId,
    paths: normaliseInvalidationPaths(retries.flatMap((retry) => retry.paths)),
    batchKey: combinedBatchKey(retries.map((retry) => retry.batchKey)),
  };
}

/** One purge a delivery owes, as the event Lambda would hand it to `Purger.purge`. */
export interface CloudFrontPurgeRequest {
  readonly batchKey: string;
  readonly tags: readonly string[];
  readonly paths?: PurgeOptions["paths"];
}

export interface DeferredCloudFrontRetry {
  readonly retry: CloudFrontRetry;
  /** The requests' batch keys that owe at least one path (the others have nothing to invalidate). */
  readonly batchKeys: string[];
}

/**
 * The CloudFront paths of all `requests` as one retry to queue instead of invalidating
 * now; undefined when none of them maps to a path.
 */
export function deferredCloudFrontRetry(
  requests: readonly CloudFrontPurgeRequest[],
  distributionId: string,
  logger: Pick<Logger, "warn"> = console,
): DeferredCloudFrontRetry | undefined {
  const owed: CloudFrontRetry[] = [];
  for (const request of requests) {
    const paths = cloudFrontInvalidationPaths(
      request.tags,
      request.batchKey,
      { paths: request.paths },
      logger,
    );
    if (paths.length > 0)
      owed.push({ provider: "cloudfront", distributionId, paths, batchKey: request.batchKey });
  }
  if (owed.length === 0) return undefined;
  return { retry: mergeCloudFrontRetries(owed), batchKeys: owed.map((retry) => retry.batchKey) };
}
