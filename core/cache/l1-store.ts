/**
 * L1: this isolate's memory, an LRU bounded by entries and bytes, with an index from
 * tag to keys so an invalidation drops exactly the entries it names. It also keeps
 * the invalidation sequence that makes fills race-safe: a load remembers the sequence
 * when it starts, and its value is kept out of L1 when an invalidation of one of its
 * tags (or a clear) came after that.
 */
import { LRUCache } from "lru-cache";
import type { DataClassName } from "../data-classes";
import type { Clock } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";

export interface L1Entry {
  readonly body: string;
  readonly etag: string;
  readonly tags: readonly string[];
  readonly dataClass: DataClassName;
  readonly contentType: string;
  readonly filledAt: number;
  /** Set when an invalidation named one of its tags: never served fresh again, only on error. */
  invalidated: boolean;
}

/** What a fill hands L1; the store stamps when it was filled. */
export type L1Value = Omit<L1Entry, "filledAt" | "invalidated">;

export interface L1StoreOptions {
  readonly maxBytes: number;
  readonly maxEntries: number;
  /** The longest any entry can still be of use (its class's limits are checked on read). */
  readonly maxAgeMs: number;
  readonly clock: Clock;
  readonly counters: Pick<TieredCacheStats, "l1Evictions">;
}

export class L1Store {
  private readonly entries: LRUCache<string, L1Entry>;
  private readonly keysByTag = new Map<string, Set<string>>();

  /** Bumped by every invalidation and clear. */
  private invalidationSeq = 0;
  private readonly tagInvalidatedAt = new Map<string, number>();
  private clearedAtSeq = 0;

  constructor(private readonly options: L1StoreOptions) {
    this.entries = new LRUCache<string, L1Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => entry.body.length * 2 + key.length * 2 + 200,
      // Expiry follows the injected clock; each entry keeps its class's own limits (checked on read).
      ttl: options.maxAgeMs,
      ttlAutopurge: false,
      perf: { now: () => options.clock.now() },
      dispose: (entry, key) => this.unindex(key, entry.tags),
    });
  }

  get usage(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key`, marked as recently used; invalidated entries included (callers decide). */
  get(key: string): L1Entry | undefined {
    return this.entries.get(key);
  }

  /** The invalidation sequence now: what a load remembers when it starts. */
  get sequence(): number {
    return this.invalidationSeq;
  }

  /** True when a clear, or an invalidation of one of `tags`, came after sequence `seq`. */
  invalidatedSince(tags: readonly string[], seq: number): boolean {
    return this.clearedAtSeq > seq || tags.some((tag) => (this.tagInvalidatedAt.get(tag) ?? 0) > seq);
  }

  /** Stores a value a load that started at sequence `seqAtStart` brought back. */
  fill(key: string, value: L1Value, seqAtStart: number): void {
    // An invalidation that arrived while this value was in flight makes it suspect: keep it out of L1.
    if (this.invalidatedSince(value.tags, seqAtStart)) return;
    // Built field by field: a spread would keep whatever else the caller's object carries.
    this.entries.set(key, {
      body: value.body,
      etag: value.etag,
      tags: value.tags,
      dataClass: value.dataClass,
      contentType: value.contentType,
      filledAt: this.options.clock.now(),
      invalidated: false,
    });
    // lru-cache refuses an entry larger than its byte budget; index only what it kept.
    if (!this.entries.has(key)) return;
    for (const tag of value.tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysByTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  /** Marks every entry carrying one of `tags` invalidated; returns how many were newly so. */
  invalidateTags(tags: Iterable<string>): number {
    let evicted = 0;
    const seq = ++this.invalidationSeq;
    for (const tag of tags) {
      this.tagInvalidatedAt.set(tag, seq);
      for (const key of this.keysByTag.get(tag) ?? []) {
        const entry = this.entries.peek(key);
        if (entry && !entry.invalidated) {
          entry.invalidated = true;
          evicted += 1;
        }
      }
    }
    this.options.counters.l1Evictions.byTag += evicted;
    return evicted;
  }

  /** Marks every entry invalidated: kept only for stale-if-error. */
  clear(): void {
    this.clearedAtSeq = ++this.invalidationSeq;
    for (const entry of this.entries.values()) entry.invalidated = true;
    this.options.counters.l1Evictions.clears += 1;
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
  }
}
