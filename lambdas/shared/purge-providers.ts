/**
 * The CDNs the Lambdas purge, named once: the purgers (lambdas/purge/purger.ts), the `provider`
 * dimension of the metrics (lambdas/shared/metrics.ts) and the dashboard's series per provider.
 */
export const PURGE_PROVIDERS = ["cloudflare", "cloudfront", "workers-cache"] as const;
export type PurgeProviderName = (typeof PURGE_PROVIDERS)[number];
