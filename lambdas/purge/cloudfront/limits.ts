/** CloudFront's documented invalidation quotas, which the batcher and the in-flight budget respect. */
export const CLOUDFRONT_LIMITS = {
  /** Paths in one CreateInvalidation (more is BatchTooLarge). */
  pathsPerInvalidation: 3_000,
  /** Individual (non-wildcard) paths in progress per distribution. */
  pathsInProgress: 3_000,
  /** Wildcard paths in progress per distribution, counted separately. */
  wildcardsInProgress: 15,
} as const;
