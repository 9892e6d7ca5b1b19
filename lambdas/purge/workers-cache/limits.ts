/**
 * Workers Cache's purge limits and this project's defaults for spending them (contract in
 * lambdas/purge/README.md): 5 purge calls a minute from a bucket of 25, whatever the
 * account's plan, and at most 100 tags or 100 prefixes a call (the Worker's endpoint,
 * workers/cache-purge/purge-request.ts, refuses more).
 */
export const WORKERS_CACHE_LIMITS = {
  tagsPerCall: 100,
  prefixesPerCall: 100,
} as const;

export const WORKERS_CACHE_DEFAULTS = {
  /** Calls the bucket holds when full. */
  bucketCapacity: 25,
  /** Calls it gains a minute: one every 12 s. */
  bucketPerMinute: 5,
  /** A tag whose class's front TTL is at most this is not purged: its copies expire first. */
  minTtlSeconds: 5,
  /**
   * How long deferred purges gather (the retry queue's event-source batching window) before
   * they are planned together: one bucket refill, so a steady stream of events costs about
   * one call a window, which the bucket sustains forever.
   */
  windowMs: 12_000,
} as const;

/** The longest batching window an SQS event source takes (AWS: 300 s). */
export const MAX_PURGE_WINDOW_MS = 300_000;
