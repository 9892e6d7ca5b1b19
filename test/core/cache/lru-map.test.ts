/**
 * The bounded LRU under L1 and the lookup memo (core/cache/lru-map.ts): the least recently
 * used entry goes first, by count and by bytes; a value too large is refused and drops the
 * key's old one; every value that leaves is reported once; expiry follows the injected clock.
 */
import { describe, expect, it } from "vitest";
import { LruMap } from "../../../core/cache/lru-map";
import { ManualClock } from "../../support/manual-clock";

/** A map sized by string length, recording every removal as `key=value`. */
function bytesMap(options: { maxBytes: number; maxEntryBytes?: number; maxEntries?: number }) {
  const removed: string[] = [];
  const map = new LruMap<string, string>({
    ...options,
    sizeOf: (value) => value.length,
    onRemove: (value, key) => removed.push(`${key}=${value}`),
  });
  return { map, removed };
}

describe("LruMap bounds", () => {
  it("evicts the least recently set entry past maxEntries", () => {
    const map = new LruMap<string, number>({ maxEntries: 2 });
    map.set("a", 1).set("b", 2).set("c", 3);
    expect([...map.values()]).toEqual([2, 3]);
    expect(map.has("a")).toBe(false);
    expect(map.size).toBe(2);
  });

  it("get makes an entry the most recently used; peek and has do not", () => {
    const map = new LruMap<string, number>({ maxEntries: 2 });
    map.set("a", 1).set("b", 2);
    expect(map.get("a")).toBe(1);
    map.set("c", 3); // b is now the least recently used
    expect(map.has("b")).toBe(false);
    expect(map.get("a")).toBe(1);

    expect(map.peek("a")).toBe(1);
    expect(map.has("a")).toBe(true);
    map.get("c");
    map.set("d", 4); // peek and has left a the least recently used
    expect(map.has("a")).toBe(false);
    expect([...map.values()]).toEqual([3, 4]);
  });

  it("setting a key again makes it the most recently used and counts it once", () => {
    const map = new LruMap<string, number>({ maxEntries: 2 });
    map.set("a", 1).set("b", 2).set("a", 10).set("c", 3);
    expect([...map.values()]).toEqual([10, 3]);
    expect(map.size).toBe(2);
  });

  it("evicts least recently used entries until a new one fits the byte budget", () => {
    const { map, removed } = bytesMap({ maxBytes: 10 });
    map.set("a", "xxxx").set("b", "xxxx");
    expect(map.calculatedSize).toBe(8);
    map.set("c", "xxxxxx");
    expect(removed).toEqual(["a=xxxx"]);
    expect(map.calculatedSize).toBe(10);
    map.set("d", "xxxxxxxxx");
    expect(removed).toEqual(["a=xxxx", "b=xxxx", "c=xxxxxx"]);
    expect(map.calculatedSize).toBe(9);
    expect(map.size).toBe(1);
  });

  it("a replaced value's bytes are given back before the new one is counted", () => {
    const { map, removed } = bytesMap({ maxBytes: 10 });
    map.set("a", "xxxx").set("b", "xxxxxx");
    map.set("b", "yyyyyy"); // fits in place of the old b: nothing else has to go
    expect(removed).toEqual(["b=xxxxxx"]);
    expect(map.calculatedSize).toBe(10);
    expect(map.get("a")).toBe("xxxx");
  });

  it("refuses a value over maxEntryBytes and drops what the key held, evicting nothing else", () => {
    const { map, removed } = bytesMap({ maxBytes: 100, maxEntryBytes: 5 });
    map.set("other", "keep").set("a", "old");
    map.set("a", "too large");
    expect(map.has("a")).toBe(false);
    expect(map.get("other")).toBe("keep");
    expect(removed).toEqual(["a=old"]);
    expect(map.calculatedSize).toBe(4);
  });

  it("refuses a value over maxBytes when maxEntryBytes is not given", () => {
    const { map, removed } = bytesMap({ maxBytes: 4 });
    map.set("a", "xxxx");
    map.set("b", "xxxxx");
    expect(map.has("b")).toBe(false);
    expect(map.get("a")).toBe("xxxx");
    expect(removed).toEqual([]);
  });

  it("holds both bounds at once", () => {
    const { map } = bytesMap({ maxBytes: 100, maxEntries: 3 });
    for (const key of ["a", "b", "c", "d"]) map.set(key, "x");
    expect(map.size).toBe(3);
    map.set("e", "x".repeat(99)); // b goes for the count, then c for the bytes (d 1 + e 99 fit)
    expect([...map.values()]).toEqual(["x", "x".repeat(99)]);
    expect(map.has("d")).toBe(true);
    expect(map.calculatedSize).toBe(100);
  });

  it("stays within its byte budget over a long run of keys, keeping the newest", () => {
    const { map } = bytesMap({ maxBytes: 1_000 });
    for (let index = 0; index < 10_000; index += 1) map.set(`k${index}`, "v".repeat(1 + (index % 37)));
    expect(map.calculatedSize).toBeLessThanOrEqual(1_000);
    expect(map.calculatedSize).toBeGreaterThan(1_000 - 37);
    expect(map.has("k9999")).toBe(true);
    expect(map.has("k0")).toBe(false);
  });
});

describe("LruMap removals", () => {
  it("reports each value that leaves once: evicted, deleted, replaced, cleared", () => {
    const removed: string[] = [];
    const map = new LruMap<string, { v: number }>({
      maxEntries: 2,
      onRemove: (value, key) => removed.push(`${key}=${value.v}`),
    });
    const a = { v: 1 };
    map.set("a", a);
    map.set("a", a); // the same value again has not left
    expect(removed).toEqual([]);
    map.set("a", { v: 2 });
    expect(removed).toEqual(["a=1"]);
    map.set("b", { v: 3 }).set("c", { v: 4 });
    expect(removed).toEqual(["a=1", "a=2"]);
    expect(map.delete("b")).toBe(true);
    expect(map.delete("b")).toBe(false);
    expect(removed).toEqual(["a=1", "a=2", "b=3"]);
    map.set("d", { v: 5 });
    map.clear();
    expect(removed).toEqual(["a=1", "a=2", "b=3", "c=4", "d=5"]);
    expect(map.size).toBe(0);
    expect(map.calculatedSize).toBe(0);
  });

  it("a removal callback may read the map while it is called", () => {
    const seen: number[] = [];
    const map: LruMap<string, number> = new LruMap<string, number>({
      maxEntries: 10,
      onRemove: () => seen.push(map.size),
    });
    map.set("a", 1).set("b", 2).set("c", 3);
    map.delete("a");
    map.clear();
    expect(seen).toEqual([2, 0, 0]);
  });
});

describe("LruMap expiry on the injected clock", () => {
  function expiring(ttlMs: number) {
    const clock = new ManualClock();
    const removed: string[] = [];
    const map = new LruMap<string, string>({
      maxEntries: 10,
      ttlMs,
      now: clock.now,
      onRemove: (value, key) => removed.push(`${key}=${value}`),
    });
    return { map, clock, removed };
  }

  it("an entry answers for ttlMs after it was set, then reads as absent", () => {
    const { map, clock } = expiring(1_000);
    map.set("a", "1");
    clock.advance(1_000);
    expect(map.get("a")).toBe("1");
    clock.advance(1);
    expect(map.has("a")).toBe(false);
    expect(map.peek("a")).toBeUndefined();
    expect(map.get("a")).toBeUndefined();
  });

  it("has, peek and values skip an expired entry without removing it; get removes it", () => {
    const { map, clock, removed } = expiring(1_000);
    map.set("old", "1");
    clock.advance(600);
    map.set("new", "2");
    clock.advance(500);
    expect(map.has("old")).toBe(false);
    expect(map.peek("old")).toBeUndefined();
    expect([...map.values()]).toEqual(["2"]);
    expect(map.size).toBe(2);
    expect(removed).toEqual([]);
    expect(map.get("old")).toBeUndefined();
    expect(map.size).toBe(1);
    expect(removed).toEqual(["old=1"]);
  });

  it("setting a key again restarts its time", () => {
    const { map, clock } = expiring(1_000);
    map.set("a", "1");
    clock.advance(900);
    map.set("a", "2");
    clock.advance(900);
    expect(map.get("a")).toBe("2");
  });
});

describe("LruMap refuses what it cannot bound", () => {
  it.each([
    [{}, /maxEntries, maxBytes or both/],
    [{ maxEntries: 0 }, /maxEntries must be a positive integer/],
    [{ maxEntries: 1.5 }, /maxEntries must be a positive integer/],
    [{ maxBytes: -1, sizeOf: () => 1 }, /maxBytes must be a positive integer/],
    [{ maxBytes: 10 }, /need sizeOf/],
    [{ maxEntries: 1, ttlMs: 10 }, /ttlMs and now go together/],
    [{ maxEntries: 1, ttlMs: Number.NaN, now: () => 0 }, /ttlMs must be a non-negative number/],
  ])("%o", (options, message) => {
    expect(() => new LruMap<string, string>(options)).toThrow(message);
  });

  it("a size that is no non-negative number is an error, and nothing is stored", () => {
    const map = new LruMap<string, string>({ maxBytes: 10, sizeOf: (value) => Number(value) });
    expect(() => map.set("a", "NaN")).toThrow(/sizeOf must return a non-negative number/);
    expect(() => map.set("a", "-1")).toThrow(/sizeOf must return a non-negative number/);
    expect(map.size).toBe(0);
    expect(map.calculatedSize).toBe(0);
  });
});
