/**
 * The database: keys to typed values, with expiry times kept apart as Redis keeps them
 * (its `expires` dictionary). A key past its time is removed when it is next looked up (lazy
 * expiry), and `activeExpire` samples keys with a time between commands, so memory does
 * not grow with keys nobody reads again (Redis's activeExpireCycle).
 */
import type { Bin } from "./bytes";
import { CommandError, WRONGTYPE } from "./errors";
import type { SortedSet } from "./sorted-set";
import type { Stream } from "./stream";

export interface ValueTypes {
  string: Bin;
  hash: Map<Bin, Bin>;
  set: Set<Bin>;
  zset: SortedSet;
  list: Bin[];
  stream: Stream;
}

export type ValueType = keyof ValueTypes;

export type RedisValue = { [T in ValueType]: { readonly type: T; readonly value: ValueTypes[T] } }[ValueType];

interface Slot {
  value: RedisValue;
  /** Creation order: SCAN's cursor (a key recreated later is visited again, as Redis may). */
  readonly seq: number;
}

/** How many keys with a time one `activeExpire` call looks at (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
const ACTIVE_EXPIRE_KEYS = 20;

export class Keyspace {
  private readonly slots = new Map<Bin, Slot>();
  private readonly expires = new Map<Bin, number>();
  /** Keys by creation, for SCAN; entries of removed keys stay until `compactOrder`. */
  private order: Array<{ readonly seq: number; readonly key: Bin }> = [];
  private nextSeq = 1;
  private expireCursor: Iterator<[Bin, number]> | undefined;
  /** The time every expiry check of the current command uses (a script sees one time throughout). */
  now = 0;

  get size(): number {
    return this.slots.size;
  }

  /** The live value at `key`, removing it first when it has expired. */
  lookup(key: Bin): RedisValue | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (this.expireIfDue(key)) return undefined;
    return slot.value;
  }

  /** The value at `key` if it is of `type`; undefined when missing; WRONGTYPE otherwise. */
  read<T extends ValueType>(key: Bin, type: T): ValueTypes[T] | undefined {
    const found = this.lookup(key);
    if (!found) return undefined;
    if (found.type !== type) throw new CommandError(WRONGTYPE);
    return found.value as ValueTypes[T];
  }

  /** The value at `key`, created empty by `create` when missing. */
  readOrCreate<T extends ValueType>(key: Bin, type: T, create: () => ValueTypes[T]): ValueTypes[T] {
    const found = this.read(key, type);
    if (found !== undefined) return found;
    const value = create();
    this.write(key, { type, value } as RedisValue);
    return value;
  }

  /** Stores `value` at `key`; the key's time goes unless `keepTtl` (SET KEEPTTL). */
  write(key: Bin, value: RedisValue, keepTtl = false): void {
    const slot = this.slots.get(key);
    if (slot && !this.expireIfDue(key)) {
      slot.value = value;
      if (!keepTtl) this.expires.delete(key);
      return;
    }
    const seq = this.nextSeq++;
    this.slots.set(key, { value, seq });
    this.order.push({ seq, key });
    this.compactOrder();
  }

  remove(key: Bin): boolean {
    if (!this.slots.has(key)) return false;
    const expired = this.expireIfDue(key);
    if (!expired) this.drop(key);
    return !expired;
  }

  /** Collections are removed when their last element goes, as Redis does (streams stay). */
  removeIfEmpty(key: Bin, size: number): void {
    if (size === 0) this.remove(key);
  }

  /** HDEL, SREM, ZREM: deletes each item, counts the ones that were there, drops a key left empty. */
  removeMembers(
    key: Bin,
    collection: { delete(item: Bin): boolean; readonly size: number } | undefined,
    items: readonly Bin[],
  ): number {
    if (!collection) return 0;
    let removed = 0;
    for (const item of items) if (collection.delete(item)) removed++;
    this.removeIfEmpty(key, collection.size);
    return removed;
  }

  expireTime(key: Bin): number | undefined {
    return this.expires.get(key);
  }

  /** Sets the absolute expiry (ms); a time not in the future removes the key (Redis's checkAlreadyExpired). */
  setExpireTime(key: Bin, at: number): void {
    if (at <= this.now) {
      this.remove(key);
      return;
    }
    this.expires.set(key, at);
  }

  /** Keeps a time a key already had (RENAME), even one that is due now. */
  keepExpireTime(key: Bin, at: number): void {
    this.expires.set(key, at);
  }

  persist(key: Bin): boolean {
    return this.expires.delete(key);
  }

  *keys(): IterableIterator<Bin> {
    for (const key of [...this.slots.keys()]) if (this.lookup(key)) yield key;
  }

  /**
   * One SCAN step: up to `count` keys created at or after `cursor` (a creation number),
   * and the cursor to continue from (0 at the end).
   */
  scan(cursor: number, count: number): { next: number; keys: Bin[] } {
    let index = lowerBound(this.order, cursor);
    const keys: Bin[] = [];
    let visited = 0;
    while (index < this.order.length && visited < count) {
      const entry = this.order[index++] as { seq: number; key: Bin };
      if (this.slots.get(entry.key)?.seq !== entry.seq) continue;
      visited++;
      if (this.lookup(entry.key)) keys.push(entry.key);
    }
    const next = index < this.order.length ? (this.order[index] as { seq: number }).seq : 0;
    return { next, keys };
  }

  flush(): void {
    this.slots.clear();
    this.expires.clear();
    this.order = [];
    this.expireCursor = undefined;
  }

  /** Removes up to a sample of expired keys, resuming where the previous call stopped. */
  activeExpire(): void {
    if (this.expires.size === 0) return;
    this.expireCursor ??= this.expires.entries();
    for (let i = 0; i < ACTIVE_EXPIRE_KEYS; i++) {
      const next = this.expireCursor.next();
      if (next.done) {
        this.expireCursor = undefined;
        return;
      }
      const [key, at] = next.value;
      if (this.now > at) this.drop(key);
    }
  }

  /** Redis's keyIsExpired: a key lives through its expiry millisecond and is gone after it. */
  private expireIfDue(key: Bin): boolean {
    const at = this.expires.get(key);
    if (at === undefined || this.now <= at) return false;
    this.drop(key);
    return true;
  }

  private drop(key: Bin): void {
    this.slots.delete(key);
    this.expires.delete(key);
  }

  /** Forgets order entries of removed keys once they outnumber the live ones. */
  private compactOrder(): void {
    if (this.order.length <= 2 * this.slots.size + 64) return;
    this.order = this.order.filter((entry) => this.slots.get(entry.key)?.seq === entry.seq);
  }
}

function lowerBound(order: ReadonlyArray<{ readonly seq: number }>, seq: number): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((order[middle] as { seq: number }).seq < seq) low = middle + 1;
    else high = middle;
  }
  return low;
}
