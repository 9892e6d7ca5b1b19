/**
 * The engine's counters, for /_cache/stats. One object per engine: each part of the
 * engine is handed the counters it moves, so every count has one place that makes it.
 */
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
  l1Evictions: { byTag: number; clears: number };
  syncs: number;
  fillsRefused: { older: number; raced: number };
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
    l1Evictions: { byTag: 0, clears: 0 },
    syncs: 0,
    fillsRefused: { older: 0, raced: 0 },
  };
}
