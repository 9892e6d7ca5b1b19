/**
 * A bounded least-recently-used map: what L1 (l1-store.ts) and the Worker's lookup memo need
 * of an LRU, and no more. A Map keeps insertion order, so re-inserting a key on every read
 * makes the first key the least recently used one, the one evicted first. It replaces the
 * lru-cache package, which was 18 KiB of the Worker's bundle for the handful of calls used here.
 *
 * Bounds: a count (`maxEntries`), bytes as `sizeOf` counts them (`maxBytes`), or both; an
 * entry larger than `maxEntryBytes` (default: `maxBytes`) is refused, and refusing it drops
 * what the key held before, so a key never answers with a value older than its last write.
 * With `ttlMs`, an entry older than that (by the injected `now`) reads as absent; it is not
 * removed until it is read with `get`, overwritten, or evicted, like any other entry.
 */

export interface LruMapOptions<K, V> {
  readonly maxEntries?: number;
  readonly maxBytes?: number;
  /** The largest entry accepted (default `maxBytes`). */
  readonly maxEntryBytes?: number;
  /** An entry's bytes; required with `maxBytes` or `maxEntryBytes`. */
  readonly sizeOf?: (value: V, key: K) => number;
  /** How long an entry reads as present after it was set; required with `now`. */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Called for every value that leaves: evicted, expired on read, deleted, replaced by another value, cleared. */
  readonly onRemove?: (value: V, key: K) => void;
}

interface Slot<V> {
  readonly value: V;
  readonly bytes: number;
  readonly setAt: number;
}

function isPositiveInteger(value: number | undefined): value is number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0;
}

export class LruMap<K, V> {
  /** Least recently used first. */
  private readonly slots = new Map<K, Slot<V>>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly maxEntryBytes: number;

  constructor(private readonly options: LruMapOptions<K, V>) {
    const { maxEntries, maxBytes, maxEntryBytes, sizeOf, ttlMs, now } = options;
    for (const [name, value] of Object.entries({ maxEntries, maxBytes, maxEntryBytes })) {
      if (value !== undefined && !isPositiveInteger(value)) {
        throw new RangeError(`LruMap: ${name} must be a positive integer (got ${value})`);
      }
    }
    if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs >= 0)) {
      throw new RangeError(`LruMap: ttlMs must be a non-negative number (got ${ttlMs})`);
    }
    if (maxEntries === undefined && maxBytes === undefined) {
      throw new RangeError("LruMap: give maxEntries, maxBytes or both; an unbounded map is not an LRU");
    }
    if ((maxBytes !== undefined || maxEntryBytes !== undefined) && !sizeOf) {
      throw new TypeError("LruMap: maxBytes and maxEntryBytes need sizeOf");
    }
    if ((ttlMs === undefined) !== (now === undefined)) {
      throw new TypeError("LruMap: ttlMs and now go together");
    }
    this.maxEntries = maxEntries ?? Number.POSITIVE_INFINITY;
    this.maxBytes = maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxEntryBytes = Math.min(maxEntryBytes ?? this.maxBytes, this.maxBytes);
  }

  /** Entries held, expired ones not yet removed included. */
  get size(): number {
    return this.slots.size;
  }

  /** The bytes of every entry held, as `sizeOf` counted them. */
  get calculatedSize(): number {
    return this.bytes;
  }

  /** The value for `key`, now the most recently used; undefined when absent or expired (then removed). */
  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (this.expired(slot)) {
      this.remove(key, slot);
      return undefined;
    }
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** The value for `key` without making it recently used; undefined when absent or expired. */
  peek(key: K): V | undefined {
    const slot = this.slots.get(key);
    return slot && !this.expired(slot) ? slot.value : undefined;
  }

  /** Whether `key` holds a value that has not expired (its recency is unchanged). */
  has(key: K): boolean {
    const slot = this.slots.get(key);
    return slot !== undefined && !this.expired(slot);
  }

  /**
   * Stores `value` as the most recently used, evicting the least recently used entries until
   * it fits; a value larger than `maxEntryBytes` is refused and the key's old value dropped.
   */
  set(key: K, value: V): this {
    const bytes = this.sizeOfEntry(value, key);
    if (bytes > this.maxEntryBytes) {
      this.delete(key);
      return this;
    }
    const previous = this.slots.get(key);
    if (previous) {
      this.slots.delete(key);
      this.bytes -= previous.bytes;
      // The same value stored again has not left.
      if (previous.value !== value) this.options.onRemove?.(previous.value, key);
    }
    while (
      this.slots.size > 0 &&
      (this.slots.size >= this.maxEntries || this.bytes + bytes > this.maxBytes)
    ) {
      this.evictOldest();
    }
    this.slots.set(key, { value, bytes, setAt: this.options.now?.() ?? 0 });
    this.bytes += bytes;
    return this;
  }

  /** Removes `key`; true when it held a value (expired or not). */
  delete(key: K): boolean {
    const slot = this.slots.get(key);
    if (!slot) return false;
    this.remove(key, slot);
    return true;
  }

  clear(): void {
    const removed = [...this.slots];
    this.slots.clear();
    this.bytes = 0;
    const { onRemove } = this.options;
    if (onRemove) for (const [key, slot] of removed) onRemove(slot.value, key);
  }

  /** The values that have not expired, least recently used first; reading them changes no recency. */
  *values(): IterableIterator<V> {
    for (const slot of [...this.slots.values()]) if (!this.expired(slot)) yield slot.value;
  }

  private sizeOfEntry(value: V, key: K): number {
    const { sizeOf } = this.options;
    if (!sizeOf) return 0;
    const bytes = sizeOf(value, key);
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new RangeError(`LruMap: sizeOf must return a non-negative number (got ${bytes})`);
    }
    return bytes;
  }

  private expired(slot: Slot<V>): boolean {
    const { ttlMs, now } = this.options;
    return ttlMs !== undefined && now !== undefined && now() - slot.setAt > ttlMs;
  }

  private evictOldest(): void {
    const oldest = this.slots.entries().next();
    if (!oldest.done) this.remove(oldest.value[0], oldest.value[1]);
  }

  private remove(key: K, slot: Slot<V>): void {
    this.slots.delete(key);
    this.bytes -= slot.bytes;
    this.options.onRemove?.(slot.value, key);
  }
}
