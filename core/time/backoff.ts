/**
 * The one exponential back-off: every retry in the project waits `base · 2ⁿ⁻¹` after its
 * n-th failure, never more than `max`. Units are the caller's (the CloudFront batcher
 * counts milliseconds, the purge-retry handler seconds).
 */
export interface BackoffPolicy {
  /** The delay after the first failure. */
  readonly base: number;
  /** The longest delay. */
  readonly max: number;
  /**
   * "Equal jitter" from this source of [0, 1): the wait is between half and all of the
   * delay (rounded), so concurrent senders spread out but none retries at once. Without
   * it the delay is exact.
   */
  readonly jitter?: () => number;
}

/**
 * The doubling stops at 2³⁰, a factor far past any cap in use: a count in the hundreds
 * must not overflow to Infinity (and 0 · Infinity to NaN).
 */
const MAX_DOUBLINGS = 30;

/** How long to wait after the `attempt`-th failure (counted from 1; anything else counts as 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const n = Number.isInteger(attempt) && attempt > 0 ? attempt : 1;
  const delay = Math.min(policy.max, policy.base * 2 ** Math.min(n - 1, MAX_DOUBLINGS));
  if (!policy.jitter) return delay;
  return Math.round(delay / 2 + policy.jitter() * (delay / 2));
}
