/**
 * L1: this isolate's memory, an LRU bounded by entries and bytes, with an index from
 * tag to keys so an invalidation drops exactly the entries it names. It also keeps
 * the invalidation sequence that makes fills race-safe: a load remembers the sequence
 * when it starts, and its value is kept out of L1 when an invalidation of one of its
 * tags (or a clear) came after that.
 *
 * Beside the entries it keeps negative ones: an origin 404 for a key, for a few seconds, so a
 * run of requests for an id that does not exist costs one origin fetch per period. They live
 * here only (never in L2: made-up keys must not fill Redis), in an LRU of their own bytes,
 * and an invalidation or clear drops them like the entries they stand for.
 *
 * Every structure here is bounded in bytes (core/cache/memory-usage.ts): the entries and their
 * share of the tag index by `maxBytes`, negative entries and theirs by `negative.maxBytes`, and
 * the history of invalidated tags by `tagHistoryMaxBytes`.
 */
import type { DataClassName } from "../data-classes";
import type { Clock } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";
import type { ListingView } from "./l2-store";
import { LruMap } from "./lru-map";
import { type MemoryUsage, OBJECT_BYTES, SLOT_BYTES, stringBytes } from "./memory-usage";

export interface L1Entry {
  readonly body: string;
  readonly etag: string;
  readonly tags: readonly string[];
  readonly dataClass: DataClassName;
  readonly contentType: string;
  readonly filledAt: number;
  /** A listing's view (core/cache/l2-store.ts): a sync that drops it may re-read it from there. */
  readonly view?: ListingView;
  /** An entity's record key in Redis, for the same re-read (core/cache/dropped-refresh.ts). */
  readonly record?: string;
  /** Set when an invalidation named one of its tags: never served fresh again, only on error. */
  invalidated: boolean;
  /** When it last answered a request (the engine stamps it), so a sync re-reads only what is in use. */
  hitAt: number;
}

/** What a fill hands L1; the store stamps when it was filled. */
export type L1Value = Omit<L1Entry, "filledAt" | "invalidated" | "hitAt">;

/** An origin answer saying the key does not exist (a 404), kept briefly. */
export interface NegativeEntry {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly tags: readonly string[];
  readonly filledAt: number;
}

export type NegativeValue = Omit<NegativeEntry, "filledAt">;

export interface NegativeCacheOptions {
  /** How long a negative entry answers; 0 keeps none. */
  readonly ttlMs: number;
  readonly maxBytes: number;
}

export interface L1StoreOptions {
  readonly maxBytes: number;
  readonly maxEntries: number;
  /** The longest any entry can still be of use (its class's limits are checked on read). */
  readonly maxAgeMs: number;
  readonly clock: Clock;
  readonly counters: Pick<TieredCacheStats, "l1Evictions">;
  /** Absent: no negative entries are kept. */
  readonly negative?: NegativeCacheOptions;
  /** Bytes of the invalidated-tag history the race check reads (default DEFAULT_TAG_HISTORY_MAX_BYTES). */
  readonly tagHistoryMaxBytes?: number;
}

/** About 10,000 tags of 30 characters: far more than one sync interval's events name. */
export const DEFAULT_TAG_HISTORY_MAX_BYTES = 1024 * 1024;
/** A 404 body is a short error; a larger one is not worth keeping. */
const MAX_NEGATIVE_ENTRY_BYTES = 8 * 1024;

/** One tag's place in an index: the map slot, its key string and the set of keys. */
function tagSlotBytes(tag: string): number {
  return stringBytes(tag) + SLOT_BYTES + OBJECT_BYTES;
}

/**
 * The most an entry's tags can add to an index: each tag's place as if no other entry had
 * it, and the entry's slot in each tag's set. Charged to the entry, so an index never
 * outgrows the budget of the entries it indexes.
 */
function indexBytes(tags: readonly string[]): number {
  let bytes = 0;
  for (const tag of tags) bytes += tagSlotBytes(tag) + SLOT_BYTES;
  return bytes;
}

/** Tag → keys of one LRU. */
class TagIndex {
  private readonly keysByTag = new Map<string, Set<string>>();
  private members = 0;
  private bytes = 0;

  get usage(): { tags: number; members: number; bytes: number } {
    return { tags: this.keysByTag.size, members: this.members, bytes: this.bytes };
  }

  add(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysByTag.set(tag, keys);
        this.bytes += tagSlotBytes(tag);
      }
      if (keys.has(key)) continue;
      keys.add(key);
      this.members += 1;
      this.bytes += SLOT_BYTES;
    }
  }

  remove(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      if (!keys?.delete(key)) continue;
      this.members -= 1;
      this.bytes -= SLOT_BYTES;
      if (keys.size === 0) {
        this.keysByTag.delete(tag);
        this.bytes -= tagSlotBytes(tag);
      }
    }
  }

  /** A copy: callers may delete the entries (and so the index members) as they go. */
  keysOf(tag: string): string[] {
    const keys = this.keysByTag.get(tag);
    return keys ? [...keys] : [];
  }
}

export interface L1Memory {
  /** `tagIndex.bytes` is part of `bytes`: each entry pays for its share of the index. */
  readonly entries: MemoryUsage & { readonly tagIndex: { tags: number; members: number; bytes: number } };
  readonly negative: MemoryUsage & { readonly ttlMs: number };
  readonly tagHistory: MemoryUsage;
}

export class L1Store {
  private readonly entries: LruMap<string, L1Entry>;
  private readonly index = new TagIndex();
  private readonly negatives: LruMap<string, NegativeEntry> | undefined;
  private readonly negativeIndex = new TagIndex();
  private readonly negativeTtlMs: number;

  /** Bumped by every invalidation and clear. */
  private invalidationSeq = 0;
  /** Oldest invalidation first (re-inserted when a tag is invalidated again), so the oldest is forgotten first. */
  private readonly tagInvalidatedAt = new Map<string, number>();
  private tagHistoryBytes = 0;
  private readonly tagHistoryMaxBytes: number;
  /** The newest sequence of a forgotten invalidation: a load older than it may have been overtaken. */
  private forgottenSeq = 0;
  private clearedAtSeq = 0;

  constructor(private readonly options: L1StoreOptions) {
    this.tagHistoryMaxBytes = options.tagHistoryMaxBytes ?? DEFAULT_TAG_HISTORY_MAX_BYTES;
    this.entries = new LruMap<string, L1Entry>({
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      sizeOf: (entry, key) =>
        stringBytes(key) +
        stringBytes(entry.body) +
        stringBytes(entry.etag) +
        stringBytes(entry.contentType) +
        2 * OBJECT_BYTES +
        SLOT_BYTES +
        indexBytes(entry.tags),
      // Expiry follows the injected clock; each entry keeps its class's own limits (checked on read).
      ttlMs: options.maxAgeMs,
      now: () => options.clock.now(),
      onRemove: (entry, key) => this.index.remove(key, entry.tags),
    });
    const negative = options.negative;
    this.negativeTtlMs = negative && negative.ttlMs > 0 && negative.maxBytes > 0 ? negative.ttlMs : 0;
    this.negatives =
      negative && this.negativeTtlMs > 0
        ? new LruMap<string, NegativeEntry>({
            maxBytes: negative.maxBytes,
            maxEntryBytes: Math.min(negative.maxBytes, MAX_NEGATIVE_ENTRY_BYTES),
            sizeOf: (entry, key) =>
              stringBytes(key) +
              stringBytes(entry.body) +
              stringBytes(entry.contentType) +
              2 * OBJECT_BYTES +
              SLOT_BYTES +
              indexBytes(entry.tags),
            ttlMs: this.negativeTtlMs,
            now: () => options.clock.now(),
            onRemove: (entry, key) => this.negativeIndex.remove(key, entry.tags),
          })
        : undefined;
  }

  get usage(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
  }

  /** Entries and bytes of every structure here, each against its budget, for /_cache/stats. */
  get memory(): L1Memory {
    return {
      entries: {
        entries: this.entries.size,
        bytes: this.entries.calculatedSize,
        maxBytes: this.options.maxBytes,
        tagIndex: this.index.usage,
      },
      negative: {
        entries: this.negatives?.size ?? 0,
        bytes: this.negatives?.calculatedSize ?? 0,
        maxBytes: this.negatives ? (this.options.negative?.maxBytes ?? 0) : 0,
        ttlMs: this.negativeTtlMs,
      },
      tagHistory: {
        entries: this.tagInvalidatedAt.size,
        bytes: this.tagHistoryBytes,
        maxBytes: this.tagHistoryMaxBytes,
      },
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key`, marked as recently used; invalidated entries included (callers decide). */
  get(key: string): L1Entry | undefined {
    return this.entries.get(key);
  }

  /** The negative entry for `key` while it is younger than the negative TTL. */
  getNegative(key: string): NegativeEntry | undefined {
    const entry = this.negatives?.get(key);
    if (!entry) return undefined;
    // Checked against the clock here: lru-cache's own expiry reads a cached time.
    if (this.options.clock.now() - entry.filledAt < this.negativeTtlMs) return entry;
    this.negatives?.delete(key);
    return undefined;
  }

  /** The invalidation sequence now: what a load remembers when it starts. */
  get sequence(): number {
    return this.invalidationSeq;
  }

  /** True when a clear, or an invalidation of one of `tags`, came after sequence `seq`. */
  invalidatedSince(tags: readonly string[], seq: number): boolean {
    return (
      this.clearedAtSeq > seq ||
      // A forgotten invalidation might have named one of them: assume it did.
      this.forgottenSeq > seq ||
      tags.some((tag) => (this.tagInvalidatedAt.get(tag) ?? 0) > seq)
    );
  }

  /** Stores a value a load that started at sequence `seqAtStart` brought back. */
  fill(key: string, value: L1Value, seqAtStart: number): void {
    // An invalidation that arrived while this value was in flight makes it suspect: keep it out of L1.
    if (this.invalidatedSince(value.tags, seqAtStart)) return;
    this.negatives?.delete(key);
    // Built field by field: a spread would keep whatever else the caller's object carries.
    const now = this.options.clock.now();
    this.entries.set(key, {
      body: value.body,
      etag: value.etag,
      tags: value.tags,
      dataClass: value.dataClass,
      contentType: value.contentType,
      filledAt: now,
      ...(value.view ? { view: value.view } : {}),
      ...(value.record ? { record: value.record } : {}),
      invalidated: false,
      hitAt: now,
    });
    // lru-cache refuses an entry larger than its byte budget; index only what it kept.
    if (this.entries.has(key)) this.index.add(key, value.tags);
  }

  /**
   * Remembers that the origin answered `key` with a 404, for the negative TTL: a load that an
   * invalidation overtook is not trusted (the event may have created the entity).
   */
  fillNegative(key: string, value: NegativeValue, seqAtStart: number): void {
    const negatives = this.negatives;
    if (!negatives || this.invalidatedSince(value.tags, seqAtStart)) return;
    // The origin says the key is gone now: an older copy must not answer for it.
    this.entries.delete(key);
    negatives.set(key, {
      status: value.status,
      body: value.body,
      contentType: value.contentType,
      tags: value.tags,
      filledAt: this.options.clock.now(),
    });
    if (negatives.has(key)) this.negativeIndex.add(key, value.tags);
  }

  /**
   * Marks every entry carrying one of `tags` invalidated, drops such negative entries; returns how
   * many were newly invalidated. An entity entry (its one tag is the tag) with a record in
   * `replacements` takes that record in place instead, fresh from now: the log entry carried the
   * record the event wrote (core/invalidation-log.ts). It still counts as an invalidation of the
   * tag, so a load that started before it cannot put the older value back.
   */
  invalidateTags(
    tags: Iterable<string>,
    replacements?: ReadonlyMap<string, { readonly body: string; readonly etag: string }>,
    /** Told of each entry this call newly invalidated (the sync picks listings to re-read). */
    onInvalidated?: (key: string, entry: L1Entry) => void,
  ): number {
    let evicted = 0;
    const seq = ++this.invalidationSeq;
    for (const tag of tags) {
      this.rememberInvalidation(tag, seq);
      const replacement = replacements?.get(tag);
      for (const key of this.index.keysOf(tag)) {
        const entry = this.entries.peek(key);
        if (entry && replacement && entry.tags.length === 1) {
          this.replace(key, entry, replacement);
          continue;
        }
        if (entry && !entry.invalidated) {
          entry.invalidated = true;
          evicted += 1;
          onInvalidated?.(key, entry);
        }
      }
      if (this.negatives) for (const key of this.negativeIndex.keysOf(tag)) this.negatives.delete(key);
    }
    this.options.counters.l1Evictions.byTag += evicted;
    return evicted;
  }

  private replace(
    key: string,
    entry: L1Entry,
    record: { readonly body: string; readonly etag: string },
  ): void {
    const next: L1Entry = {
      body: record.body,
      etag: record.etag,
      tags: entry.tags,
      dataClass: entry.dataClass,
      contentType: entry.contentType,
      filledAt: this.options.clock.now(),
      ...(entry.view ? { view: entry.view } : {}),
      ...(entry.record ? { record: entry.record } : {}),
      invalidated: false,
      hitAt: entry.hitAt,
    };
    this.entries.set(key, next);
    // Whether or not the store disposed of the old value (and its index slots) on overwrite.
    if (this.entries.has(key)) this.index.add(key, next.tags);
    this.options.counters.l1Evictions.replacedInPlace += 1;
  }

  /** Marks every entry invalidated (kept only for stale-if-error) and drops every negative entry. */
  clear(): void {
    this.clearedAtSeq = ++this.invalidationSeq;
    for (const entry of this.entries.values()) entry.invalidated = true;
    this.negatives?.clear();
    // Every invalidation so far is older than the clear, which outranks them all.
    this.tagInvalidatedAt.clear();
    this.tagHistoryBytes = 0;
    this.options.counters.l1Evictions.clears += 1;
  }

  private rememberInvalidation(tag: string, seq: number): void {
    if (this.tagInvalidatedAt.delete(tag)) this.tagHistoryBytes -= tagSlotBytes(tag);
    this.tagInvalidatedAt.set(tag, seq);
    this.tagHistoryBytes += tagSlotBytes(tag);
    while (this.tagHistoryBytes > this.tagHistoryMaxBytes) {
      const oldest = this.tagInvalidatedAt.entries().next();
      if (oldest.done) break;
      const [forgotten, forgottenAt] = oldest.value;
      this.tagInvalidatedAt.delete(forgotten);
      this.tagHistoryBytes -= tagSlotBytes(forgotten);
      this.forgottenSeq = Math.max(this.forgottenSeq, forgottenAt);
    }
  }
}
