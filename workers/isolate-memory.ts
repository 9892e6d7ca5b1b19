/**
 * Every per-isolate structure's entries and bytes against its budget (core/cache/memory-usage.ts),
 * the engine's and the Worker's own, as /_cache/stats and /_cache/metrics both report them.
 */
import type { MemoryUsage } from "../core/cache/memory-usage";
import type { TieredCache, TieredCacheMemory } from "../core/cache/tiered-cache";
import type { LookupMemo } from "./lookup-memo";
import type { ReferenceCatalog } from "./reference-catalog";

export interface IsolateMemory extends TieredCacheMemory {
  readonly lookupMemo: MemoryUsage;
  readonly referenceLists: MemoryUsage;
  readonly totalBytes: number;
}

export function isolateMemory(parts: {
  readonly cache: Pick<TieredCache, "memory">;
  readonly lookups: Pick<LookupMemo, "usage">;
  readonly references: Pick<ReferenceCatalog, "memory">;
}): IsolateMemory {
  const engine = parts.cache.memory;
  const lookupMemo = parts.lookups.usage;
  const referenceLists = parts.references.memory;
  // The tag index is part of the entries' bytes (each entry pays for its share of it).
  const totalBytes =
    engine.entries.bytes +
    engine.negative.bytes +
    engine.tagHistory.bytes +
    engine.loads.bytes +
    engine.refreshes.bytes +
    lookupMemo.bytes +
    referenceLists.bytes;
  return { ...engine, lookupMemo, referenceLists, totalBytes };
}
