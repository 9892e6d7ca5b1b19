/**
 * L1 (core/cache/l1-store.ts): the tag index drops exactly the entries an invalidation
 * names, a fill that an invalidation overtook stays out, entries evicted or refused leave
 * no index behind.
 */
import { describe, expect, it } from "vitest";
import { L1Store, type L1Value } from "../../../core/cache/l1-store";
import { ManualClock } from "../../support/manual-clock";

function createStore(options: { maxBytes?: number; maxEntries?: number } = {}) {
  const clock = new ManualClock();
  const counters = { l1Evictions: { byTag: 0, clears: 0, replacedInPlace: 0 } };
  const store = new L1Store({
    maxBytes: options.maxBytes ?? 1024 * 1024,
    maxEntries: options.maxEntries ?? 100,
    maxAgeMs: 60_000,
    clock,
    counters,
  });
  return { store, clock, counters };
}

function value(tags: readonly string[], body = '{"v":1}'): L1Value {
  return { body, etag: '"etag"', tags, dataClass: "gpu", contentType: "application/json" };
}

describe("L1Store", () => {
  it("stores a fill stamped with the clock, not yet invalidated", () => {
    const { store, clock } = createStore();
    store.fill("/a", value(["gpu:a"]), store.sequence);
    expect(store.get("/a")).toMatchObject({ body: '{"v":1}', filledAt: clock.now(), invalidated: false });
    expect(store.usage.entries).toBe(1);
    expect(store.usage.bytes).toBeGreaterThan(0);
  });

  it("invalidates exactly the entries carrying a named tag, each counted once", () => {
    const { store, counters } = createStore();
    const seq = store.sequence;
    store.fill("/a", value(["gpu:a", "gpus:eu"]), seq);
    store.fill("/b", value(["gpu:b", "gpus:eu"]), seq);
    store.fill("/c", value(["gpu:c"]), seq);
    store.fill("/untagged", value([]), seq);

    expect(store.invalidateTags(["gpus:eu", "gpu:a", "nothing"])).toBe(2);
    expect(store.get("/a")?.invalidated).toBe(true);
    expect(store.get("/b")?.invalidated).toBe(true);
    expect(store.get("/c")?.invalidated).toBe(false);
    expect(store.get("/untagged")?.invalidated).toBe(false);
    // Already invalidated: not counted again.
    expect(store.invalidateTags(["gpu:b"])).toBe(0);
    expect(counters.l1Evictions).toEqual({ byTag: 2, clears: 0, replacedInPlace: 0 });
  });

  it("keeps a fill out when one of its tags was invalidated after its load started", () => {
    const { store } = createStore();
    const seqAtStart = store.sequence;
    store.invalidateTags(["gpu:a"]);
    expect(store.invalidatedSince(["gpu:a"], seqAtStart)).toBe(true);
    store.fill("/a", value(["gpu:a"]), seqAtStart);
    expect(store.get("/a")).toBeUndefined();

    // A load that started after that invalidation fills normally.
    store.fill("/a", value(["gpu:a"]), store.sequence);
    expect(store.get("/a")?.invalidated).toBe(false);
  });

  it("lets a fill in when only unrelated tags were invalidated meanwhile", () => {
    const { store } = createStore();
    const seqAtStart = store.sequence;
    store.invalidateTags(["gpu:other"]);
    expect(store.invalidatedSince(["gpu:a"], seqAtStart)).toBe(false);
    store.fill("/a", value(["gpu:a"]), seqAtStart);
    expect(store.get("/a")).toBeDefined();
  });

  it("clear invalidates every entry (kept for stale-if-error) and every load in flight", () => {
    const { store, counters } = createStore();
    store.fill("/a", value(["gpu:a"]), store.sequence);
    store.fill("/untagged", value([]), store.sequence);
    const seqAtStart = store.sequence;
    store.clear();
    expect(store.get("/a")?.invalidated).toBe(true);
    expect(store.get("/untagged")?.invalidated).toBe(true);
    expect(store.invalidatedSince([], seqAtStart)).toBe(true);
    store.fill("/b", value([]), seqAtStart);
    expect(store.get("/b")).toBeUndefined();
    expect(counters.l1Evictions.clears).toBe(1);
  });

  it("refuses a value larger than the byte budget and indexes nothing for it", () => {
    const { store } = createStore({ maxBytes: 1_000 });
    store.fill("/a", value(["big"], "x".repeat(2_000)), store.sequence);
    expect(store.get("/a")).toBeUndefined();
    expect(store.usage).toEqual({ entries: 0, bytes: 0 });

    // Had the refused fill been indexed, invalidating "big" would now reach this entry.
    store.fill("/a", value(["small"]), store.sequence);
    expect(store.invalidateTags(["big"])).toBe(0);
    expect(store.get("/a")?.invalidated).toBe(false);
  });

  it("an evicted entry leaves the tag index, so its old tags no longer reach the key", () => {
    const { store } = createStore({ maxEntries: 1 });
    store.fill("/a", value(["old"]), store.sequence);
    store.fill("/b", value(["other"]), store.sequence); // evicts /a
    expect(store.get("/a")).toBeUndefined();
    store.fill("/a", value(["new"]), store.sequence); // evicts /b
    expect(store.invalidateTags(["old", "other"])).toBe(0);
    expect(store.get("/a")?.invalidated).toBe(false);
  });
});

function negative(tags: readonly string[], body = '{"error":"no GPU"}') {
  return { status: 404, body, contentType: "application/json", tags };
}

function createNegativeStore(
  options: { ttlMs?: number; maxBytes?: number; tagHistoryMaxBytes?: number } = {},
) {
  const clock = new ManualClock();
  const counters = { l1Evictions: { byTag: 0, clears: 0, replacedInPlace: 0 } };
  const store = new L1Store({
    maxBytes: 1024 * 1024,
    maxEntries: 100,
    maxAgeMs: 60_000,
    clock,
    counters,
    negative: { ttlMs: options.ttlMs ?? 5_000, maxBytes: options.maxBytes ?? 64 * 1024 },
    ...(options.tagHistoryMaxBytes === undefined ? {} : { tagHistoryMaxBytes: options.tagHistoryMaxBytes }),
  });
  return { store, clock, counters };
}

describe("L1Store negative entries", () => {
  it("answer for their TTL on the store's clock, then are gone", () => {
    const { store, clock } = createNegativeStore({ ttlMs: 5_000 });
    store.fillNegative("/v1/gpus/nope", negative(["gpu:nope"]), store.sequence);
    expect(store.getNegative("/v1/gpus/nope")).toMatchObject({ status: 404, body: '{"error":"no GPU"}' });
    clock.advance(4_999);
    expect(store.getNegative("/v1/gpus/nope")).toBeDefined();
    clock.advance(1);
    expect(store.getNegative("/v1/gpus/nope")).toBeUndefined();
    expect(store.memory.negative.entries).toBe(0);
  });

  it("are not kept without negative options, or with a TTL of 0", () => {
    const { store } = createStore();
    store.fillNegative("/x", negative(["gpu:x"]), store.sequence);
    expect(store.getNegative("/x")).toBeUndefined();
    const off = createNegativeStore({ ttlMs: 0 }).store;
    off.fillNegative("/x", negative(["gpu:x"]), off.sequence);
    expect(off.getNegative("/x")).toBeUndefined();
    expect(off.memory.negative).toMatchObject({ entries: 0, bytes: 0, ttlMs: 0 });
  });

  it("an invalidation of their tag, or a clear, drops them; an overtaken 404 is not kept", () => {
    const { store } = createNegativeStore();
    store.fillNegative("/a", negative(["gpu:a"]), store.sequence);
    store.fillNegative("/b", negative(["gpu:b"]), store.sequence);
    store.invalidateTags(["gpu:a"]);
    expect(store.getNegative("/a")).toBeUndefined();
    expect(store.getNegative("/b")).toBeDefined();
    store.clear();
    expect(store.getNegative("/b")).toBeUndefined();
    expect(store.memory.negative).toMatchObject({ entries: 0, bytes: 0 });

    const seqAtStart = store.sequence;
    store.invalidateTags(["gpu:c"]); // the event that created gpu c, while its 404 was in flight
    store.fillNegative("/c", negative(["gpu:c"]), seqAtStart);
    expect(store.getNegative("/c")).toBeUndefined();
  });

  it("a 404 replaces the key's entry, and a fill replaces its negative entry", () => {
    const { store } = createNegativeStore();
    store.fill("/a", value(["gpu:a"]), store.sequence);
    store.fillNegative("/a", negative(["gpu:a"]), store.sequence);
    expect(store.get("/a")).toBeUndefined();
    expect(store.getNegative("/a")).toBeDefined();
    store.fill("/a", value(["gpu:a"]), store.sequence);
    expect(store.getNegative("/a")).toBeUndefined();
    expect(store.get("/a")).toBeDefined();
  });

  it("a run of made-up keys stays within the negative budget, however long", () => {
    const maxBytes = 16 * 1024;
    const { store } = createNegativeStore({ maxBytes });
    for (let index = 0; index < 2_000; index += 1) {
      store.fillNegative(`/v1/gpus/made-up-${index}`, negative([`gpu:made-up-${index}`]), store.sequence);
    }
    const { negative: usage } = store.memory;
    expect(usage.bytes).toBeLessThanOrEqual(maxBytes);
    expect(usage.entries).toBeGreaterThan(0);
    expect(usage.entries).toBeLessThan(100);
    // The newest are kept, the oldest evicted; so is their part of the index.
    expect(store.getNegative("/v1/gpus/made-up-1999")).toBeDefined();
    expect(store.getNegative("/v1/gpus/made-up-0")).toBeUndefined();
    expect(store.invalidateTags(["gpu:made-up-0"])).toBe(0);
    // The entries' own budget is untouched.
    expect(store.memory.entries).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe("L1Store byte accounting", () => {
  it("counts at least two bytes per character of key and body, and the tag index inside the entries' bytes", () => {
    const { store } = createStore();
    const body = "x".repeat(10_000);
    const key = `/k/${"y".repeat(1_000)}`;
    store.fill(key, value(["gpu:a", "gpus:eu"], body), store.sequence);
    const { entries } = store.memory;
    expect(entries.bytes).toBeGreaterThanOrEqual(2 * (body.length + key.length));
    expect(entries.tagIndex).toMatchObject({ tags: 2, members: 2 });
    expect(entries.tagIndex.bytes).toBeGreaterThan(0);
    expect(entries.tagIndex.bytes).toBeLessThan(entries.bytes);
    expect(entries.maxBytes).toBe(1024 * 1024);
  });

  it("entries with many tags are bounded with their index: the index never outgrows the entries' budget", () => {
    const maxBytes = 64 * 1024;
    const { store } = createStore({ maxBytes, maxEntries: 10_000 });
    for (let index = 0; index < 500; index += 1) {
      const tags = Array.from({ length: 20 }, (_, tag) => `tag-${index}-${tag}-${"t".repeat(40)}`);
      store.fill(`/k${index}`, value(tags), store.sequence);
    }
    const { entries } = store.memory;
    expect(entries.bytes).toBeLessThanOrEqual(maxBytes);
    expect(entries.tagIndex.bytes).toBeLessThanOrEqual(entries.bytes);
    expect(entries.tagIndex.members).toBe(entries.entries * 20);
  });

  it("the invalidated-tag history is bounded; a forgotten invalidation keeps older loads out, as a real one would", () => {
    const tagHistoryMaxBytes = 8 * 1024;
    const { store } = createNegativeStore({ tagHistoryMaxBytes });
    const seqAtStart = store.sequence;
    for (let index = 0; index < 1_000; index += 1) store.invalidateTags([`gpu:event-${index}`]);
    const { tagHistory } = store.memory;
    expect(tagHistory.bytes).toBeLessThanOrEqual(tagHistoryMaxBytes);
    expect(tagHistory.entries).toBeGreaterThan(0);
    expect(tagHistory.entries).toBeLessThan(1_000);
    // gpu:event-0 was forgotten; a load that started before it cannot tell, so it is kept out.
    expect(store.invalidatedSince(["gpu:unrelated"], seqAtStart)).toBe(true);
    store.fill("/old", value(["gpu:unrelated"]), seqAtStart);
    expect(store.get("/old")).toBeUndefined();
    // A load that started after the forgotten ones is judged by what is remembered.
    const now = store.sequence;
    expect(store.invalidatedSince(["gpu:unrelated"], now)).toBe(false);
    store.fill("/new", value(["gpu:unrelated"]), now);
    expect(store.get("/new")).toBeDefined();
  });

  it("a clear empties the tag history: the clear outranks every invalidation before it", () => {
    const { store } = createNegativeStore();
    store.invalidateTags(["gpu:a", "gpu:b"]);
    expect(store.memory.tagHistory.entries).toBe(2);
    const before = store.sequence;
    store.clear();
    expect(store.memory.tagHistory).toMatchObject({ entries: 0, bytes: 0 });
    expect(store.invalidatedSince(["gpu:a"], before)).toBe(true);
    expect(store.invalidatedSince(["gpu:a"], store.sequence)).toBe(false);
  });
});
