/**
 * The engine's per-class answer counters (`stats.answers`, core/cache/cache-stats.ts): one per
 * answer, by data class and source, whereas `hits` count loads that concurrent requests
 * share. Real Redis behind the real bridge; a fake origin; a manual clock.
 */
import { describe, expect, it } from "vitest";
import { DATA_CLASS_NAMES, DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { createHarness, gpuLookup, listingLookup } from "./helpers";

describe("answers per data class and source", () => {
  it("start at zero for every class and source", () => {
    const h = createHarness({ label: "answers-zero" });
    expect(Object.keys(h.cache.stats.answers).sort()).toEqual([...DATA_CLASS_NAMES].sort());
    for (const name of DATA_CLASS_NAMES) {
      expect(h.cache.stats.answers[name]).toEqual({ L1: 0, L2: 0, ORIGIN: 0, STALE: 0, BYPASS: 0 });
    }
  });

  it("count each answer once under its class and source: origin, L1, L2 in another isolate, stale, private", async () => {
    const h = createHarness({ label: "answers" });
    const gpu = gpuLookup(h.keys, "gpu-answers-1");
    h.origin.set(gpu.originPath, { gpuId: "gpu-answers-1" }, { version: 1 });
    const listing = listingLookup(h.keys, { region: "us-east" });
    h.origin.set(listing.originPath, { items: [] });

    expect((await h.cache.get(gpu, h.ctx)).source).toBe("ORIGIN");
    expect((await h.cache.get(gpu, h.ctx)).source).toBe("L1");
    expect((await h.cache.get(gpu, h.ctx)).source).toBe("L1");
    expect((await h.cache.get(listing, h.ctx)).source).toBe("ORIGIN");
    await h.drain();
    expect(h.cache.stats.answers.gpu).toEqual({ L1: 2, L2: 0, ORIGIN: 1, STALE: 0, BYPASS: 0 });
    expect(h.cache.stats.answers.availability).toEqual({ L1: 0, L2: 0, ORIGIN: 1, STALE: 0, BYPASS: 0 });
    expect(h.cache.stats.answers.pricing).toEqual({ L1: 0, L2: 0, ORIGIN: 0, STALE: 0, BYPASS: 0 });

    const other = h.newEngine();
    expect((await other.get(gpu, h.ctx)).source).toBe("L2");
    expect(other.stats.answers.gpu.L2).toBe(1);

    // Past the class's fresh window: served stale while one refresh runs.
    h.clock.advance(DEFAULT_DATA_CLASS_POLICIES.gpu.l1FreshMs + 1_000);
    expect((await h.cache.get(gpu, h.ctx)).source).toBe("STALE");
    await h.drain();
    expect(h.cache.stats.answers.gpu.STALE).toBe(1);

    const privateGpu = gpuLookup(h.keys, "gpu-answers-private");
    h.origin.set(
      privateGpu.originPath,
      { gpuId: "gpu-answers-private" },
      { headers: { "Cache-Control": "private" } },
    );
    expect((await h.cache.get(privateGpu, h.ctx)).source).toBe("BYPASS");
    expect(h.cache.stats.answers.gpu.BYPASS).toBe(1);
  });

  it("10 concurrent requests sharing one load are 10 answers but one origin hit", async () => {
    const h = createHarness({ label: "answers-shared" });
    const gpu = gpuLookup(h.keys, "gpu-answers-shared");
    h.origin.set(gpu.originPath, { gpuId: "gpu-answers-shared" });
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.cache.get(gpu, h.ctx)));
    expect(answers.every((answer) => answer.source === "ORIGIN")).toBe(true);
    expect(h.cache.stats.hits.origin).toBe(1);
    expect(h.cache.stats.answers.gpu.ORIGIN).toBe(10);
  });

  it("a negative entry's 404 counts as an L1 answer of its class", async () => {
    const h = createHarness({ label: "answers-negative", negativeCacheMs: 5_000 });
    const gpu = gpuLookup(h.keys, "gpu-answers-missing");
    h.origin.set(
      gpu.originPath,
      { error: "Not found" },
      { status: 404, headers: { "Cache-Control": "no-store" } },
    );
    expect(await h.cache.get(gpu, h.ctx)).toMatchObject({ status: 404, source: "ORIGIN" });
    expect(await h.cache.get(gpu, h.ctx)).toMatchObject({ status: 404, source: "L1" });
    expect(h.cache.stats.negativeHits).toBe(1);
    expect(h.cache.stats.answers.gpu).toMatchObject({ ORIGIN: 1, L1: 1 });
  });
});
