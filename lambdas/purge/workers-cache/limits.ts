/**
 * Workers Cache's purge limits and this project's defaults for spending them (contract in
 * lambdas/purge/README.md): 5 purge calls a minute from a bucket of 25, whatever the
 * account's plan, and at most 100 tags or 100 prefixes a call (the Worker's endpoint,
 * core/edge-purge.ts, refuses more).
 */
import { EDGE_PURGE_LIMITS } from "../../../core/edge-purge";
export const WORKERS_CACHE_LIMITS = {
  tagsPerCall: EDGE_PURGE_LIMITS.tagsPerCall,
  prefixesPerCall: EDGE_PURGE_LIMITS.prefixesPerCall,
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
