/**
 * The engine's counters, for /_cache/stats. One object per engine: each part of the
 * engine is handed the counters it moves, so every count has one place that makes it.
 */
import { DATA_CLASS_NAMES, type DataClassName } from "../data-classes";

/** Where an answer came from (the Worker's `X-Cache`). */
export type CacheSource = "L1" | "L2" | "ORIGIN" | "STALE" | "BYPASS";

const CACHE_SOURCES: readonly CacheSource[] = ["L1", "L2", "ORIGIN", "STALE", "BYPASS"];

export interface TieredCacheStats {
  hits: { l1: number; l2: number; origin: number };
  misses: { l1: number; l2: number };
  staleServed: { revalidating: number; error: number };
  bypass: number;
  redisCommands: number;
  redisErrors: number;
  originErrors: number;
  /** Origin fetches that carried a tag version (core/tag-versions.ts): refills after an event. */
  versionedOriginFetches: number;
  /** `replacedInPlace`: entity entries given the record a log entry carried, instead of dropped. */
  l1Evictions: { byTag: number; clears: number; replacedInPlace: number };
  /** Listing reads from the Redis views (core/redis/listing-views.ts), by what they found. */
  viewReads: { ok: number; notReady: number; incomplete: number; refreshed: number };
  /** Entity records a sync re-read after dropping them while in use (core/cache/dropped-refresh.ts). */
  recordsRefreshed: number;
  syncs: number;
  /**
   * Log reads that found another log than the cursor's (Redis lost or replaced its data, or a
   * replica that was behind took over): each cleared L1 (core/cache/log-sync.ts).
   */
  logResets: number;
  fillsRefused: { older: number; raced: number };
  /** Answers from a negative entry (an origin 404 kept briefly in L1); neither an L1 hit nor a miss. */
  negativeHits: number;
  /**
   * Answers per data class and source, one per answer given (a negative entry's 404 counts as
   * L1), so per class hit ratios need no log search. `hits` and `misses` count loads instead,
   * which concurrent requests for one key share.
   */
  answers: Record<DataClassName, Record<CacheSource, number>>;
}

export function zeroTieredCacheStats(): TieredCacheStats {
  return {
    hits: { l1: 0, l2: 0, origin: 0 },
    misses: { l1: 0, l2: 0 },
    staleServed: { revalidating: 0, error: 0 },
    bypass: 0,
    redisCommands: 0,
    redisErrors: 0,
    originErrors: 0,
    versionedOriginFetches: 0,
    l1Evictions: { byTag: 0, clears: 0, replacedInPlace: 0 },
    viewReads: { ok: 0, notReady: 0, incomplete: 0, refreshed: 0 },
    recordsRefreshed: 0,
    syncs: 0,
    logResets: 0,
    fillsRefused: { older: 0, raced: 0 },
    negativeHits: 0,
    answers: Object.fromEntries(
      DATA_CLASS_NAMES.map((name) => [name, Object.fromEntries(CACHE_SOURCES.map((source) => [source, 0]))]),
    ) as TieredCacheStats["answers"],
  };
}
