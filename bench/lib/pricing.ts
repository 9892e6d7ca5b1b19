/**
 * List prices the bench turns its counts into, each in one place with where it comes from.
 * They are list prices as published, not a bill: free allowances and plan minimums are left
 * out unless said, so they compare designs, not budgets.
 */

/**
 * Upstash Redis pay-as-you-go list price: USD 0.20 per 100,000 commands, i.e. USD 2 per
 * million (upstash.com/pricing/redis). A pipeline or a transaction of N commands is N
 * commands; a REST round trip is not billed by itself.
 */
export const UPSTASH_PAYG_USD_PER_100K_COMMANDS = 0.2;

/**
 * Upstash pay-as-you-go bandwidth: free up to 200 GB a month, then USD 0.03 per GB
 * (upstash.com/pricing/redis, as transcribed 2026-09-20). Used only for the compression estimate.
 */
export const UPSTASH_PAYG_USD_PER_GB_BEYOND_FREE = 0.03;
export const UPSTASH_PAYG_FREE_GB_PER_MONTH = 200;

/**
 * Cloudflare Workers Standard: 30 million CPU-ms a month included, then USD 0.02 per million
 * CPU-ms (developers.cloudflare.com/workers/platform/pricing). Used only for the compression estimate.
 */
export const WORKERS_USD_PER_MILLION_CPU_MS = 0.02;

/** Redis commands per 1,000 edge requests → USD per million edge requests (0.20 / 100k = 2 USD per million commands). */
export function redisUsdPerMillionRequests(commandsPer1k: number): number {
  return (commandsPer1k / 1000) * 1_000_000 * (UPSTASH_PAYG_USD_PER_100K_COMMANDS / 100_000);
}
