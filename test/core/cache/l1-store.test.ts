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
  const counters = { l1Evictions: { byTag: 0, clears: 0 } };
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
    expect(counters.l1Evictions).toEqual({ byTag: 2, clears: 0 });
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
