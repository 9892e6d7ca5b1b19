/**
 * CloudFront invalidations for the paths that tags map to (core/purge-paths.ts), within
 * CloudFront's limits. What the rest of the project uses:
 *
 * - `CloudFrontPurger` (./purger.ts), built by lambdas/purge/config.ts: coalescing, the
 *   in-progress budget, back-off and idempotency are explained where they live
 *   (./batcher.ts, ./in-flight-budget.ts, ./caller-reference.ts).
 * - `deferredCloudFrontRetry` for the event Lambda (lambdas/events/purge-dispatcher.ts),
 *   which queues a delivery's paths instead of invalidating in the request, and
 *   `mergeCloudFrontRetries` for the retry handler (lambdas/retry/handler.ts), which
 *   replays a batch's messages as one invalidation (./retries.ts).
 */
export type { BackoffOptions, CloudFrontBatcherOptions } from "./batcher";
export { CLOUDFRONT_LIMITS } from "./limits";
export { CloudFrontPurger, type CloudFrontPurgerOptions } from "./purger";
export {
  type CloudFrontPurgeRequest,
  type CloudFrontRetry,
  type DeferredCloudFrontRetry,
  deferredCloudFrontRetry,
  mergeCloudFrontRetries,
} from "./retries";
