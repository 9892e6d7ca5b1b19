/**
 * Workers Cache purges through the Worker's signed endpoint, within the account's purge
 * bucket. One file per role: `limits.ts` (the service's limits and our defaults),
 * `targets.ts` (what is owed: tags, prefixes, everything; the front-TTL filter),
 * `planner.ts` (targets and tokens → calls, with the prefix and everything fallbacks),
 * `token-bucket.ts` (the bucket every invocation shares, in Redis), `purger.ts` (the
 * `Purger`: take tokens, plan, sign, send), `retries.ts` (descriptions for the retry queue:
 * the event Lambda defers with `deferredWorkersCacheRetry`, the retry handler merges with
 * `mergeWorkersCacheRetries` and settles each message with `stillOwes`).
 */
export { MAX_PURGE_WINDOW_MS, WORKERS_CACHE_DEFAULTS, WORKERS_CACHE_LIMITS } from "./limits";
export {
  callsWanted,
  type PlanFallback,
  type PlannedCall,
  type PlannerLimits,
  type PurgeCallBody,
  type PurgePlan,
  planPurgeCalls,
} from "./planner";
export { WorkersCachePurger, type WorkersCachePurgerOptions } from "./purger";
export {
  type DeferredWorkersCacheRetry,
  deferredWorkersCacheRetry,
  mergeWorkersCacheRetries,
  stillOwes,
  targetsOf,
  type WorkersCachePurgeRequest,
  type WorkersCacheRetry,
  workersCacheRetry,
} from "./retries";
export {
  frontTtlFilter,
  isEmptyTargets,
  mergeTargets,
  NO_TARGETS,
  owesAnyOf,
  type PurgeTargets,
  purgeTargetsFor,
  type TagFilter,
} from "./targets";
export {
  createSharedTokenBucket,
  type SharedTokenBucketOptions,
  type TokenBucket,
  TokenBucketError,
  type TokenGrant,
} from "./token-bucket";
