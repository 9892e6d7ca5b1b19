/**
 * The paths a CloudFront purge invalidates: those the tags map to (core/purge-paths.ts)
 * plus an operator's own, validated and normalised. The purger and the deferred retries
 * (./retries.ts) both derive them here, so both invalidate exactly the same paths.
 */
import { cloudFrontPathsForTags, normaliseInvalidationPaths } from "../../../core/purge-paths";
import type { Logger } from "../../shared/logger";
import type { PurgeOptions } from "../purger";

/** What CloudFront accepts as an invalidation path: starts with `/`, no whitespace or control characters. */
const VALID_PATH = /^\/[^\s\p{Cc}]{0,4095}$/u;

/** The paths a purge of `tags` (plus an operator's `options.paths`) invalidates, normalised. */
export function cloudFrontInvalidationPaths(
  tags: readonly string[],
  batchKey: string,
  options: PurgeOptions = {},
  logger: Pick<Logger, "warn"> = console,
): string[] {
  // One bad operator path would fail the whole coalesced invalidation (InvalidArgument) for everyone in it.
  const extra = (options.paths ?? []).filter((path) => {
    const valid = VALID_PATH.test(path);
    if (!valid)
      logger.warn("invalid CloudFront path ignored", {
        provider: "cloudfront",
        batchKey,
        // An operator's text: enough to recognise it, not a page of it.
        path: path.slice(0, 200),
      });
    return valid;
  });
  return normaliseInvalidationPaths([...cloudFrontPathsForTags(tags), ...extra]);
}
