/**
 * Negative entries (core/cache/l1-store.ts, core/cache/tiered-cache.ts): an origin 404 answers
 * its key from L1 for `negativeCacheMs`, is never written to L2, is shared by concurrent
 * requests, and goes when an event names its tag. And the engine's memory report. Real Redis
 * behind the real bridge; a fake origin for exact counts; a manual clock.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createHarness, gpuLookup, LambdaSide } from "./helpers";

const NEGATIVE_MS = 5_000;
const SYNC_INTERVAL_MS = 500;
const NOT_FOUND = { error: "Not found", detail: 'no GPU "gpu-made-up"' };
const lambda = new LambdaSide();
afterAll(() => lambda.close());

function notFoundHarness(label: string, overrides: { negativeCacheMs?: number } = {}) {
  const h = createHarness({
    label,
    negativeCacheMs: NEGATIVE_MS,
    syncIntervalMs: SYNC_INTERVAL_MS,
    ...overrides,
  });
  const lookup = gpuLookup(h.keys, "gpu-made-up");
  // As the sample origin marks its errors.
  const body = h.origin.set(lookup.originPath, NOT_FOUND, {
    status: 404,
    headers: { "Cache-Control": "no-store" },
  });
  return { h, lookup, body };
}

describe("negative entries", () => {
  it("50 requests for an unknown id: one origin fetch per negative period, the 404 itself intact, nothing in L2", async () => {
    const { h, lookup, body } = notFoundHarness("neg-sequential");
    const answers = [];
    for (let index = 0; index < 50; index += 1) answers.push(await h.cache.get(lookup, h.ctx));
    expect(h.origin.count()).toBe(1);
    expect(answers[0]).toMatchObject({
      status: 404,
      body,
      source: "ORIGIN",
      shareable: false,
      etag: undefined,
    });
    for (const answer of answers.slice(1)) {
      expect(answer).toMatchObject({ status: 404, body, source: "L1", shareable: false, etag: undefined });
      expect(answer.contentType).toMatch(/^application\/json/);
    }
    expect(h.cache.stats.negativeHits).toBe(49);

    h.clock.advance(NEGATIVE_MS);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ status: 404, source: "ORIGIN" });
    expect(h.origin.count()).toBe(2);

    await h.drain();
    expect(h.store.calls.fill).toBe(0);
    expect(await h.redis.exists(lookup.l2Key)).toBe(0);
  });

  it("50 concurrent requests for an unknown id share one origin fetch", async () => {
    const { h, lookup, body } = notFoundHarness("neg-concurrent");
    const release = h.origin.hold();
    const pending = Array.from({ length: 50 }, () => h.cache.get(lookup, h.ctx));
    await h.origin.called(1);
    release();
    const answers = await Promise.all(pending);
    expect(h.origin.count()).toBe(1);
    for (const answer of answers) expect(answer).toMatchObject({ status: 404, body });
  });

  it("an event naming the id's tag drops the negative entry: a GPU created meanwhile is served", async () => {
    const { h, lookup } = notFoundHarness("neg-created");
    await h.cache.get(lookup, h.ctx);
    const record = '{"gpuId":"gpu-made-up","version":1}';
    await lambda.writeRecord(lookup.l2Key, { version: 1, body: record, tags: lookup.tags, storedAt: 1 });
    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ status: 200, body: record, source: "L2" });
    expect(h.origin.count()).toBe(1);
  });

  it("without negativeCacheMs, or for a 404 that is private or sets a cookie, every request asks the origin", async () => {
    const off = notFoundHarness("neg-off", { negativeCacheMs: 0 });
    await off.h.cache.get(off.lookup, off.h.ctx);
    await off.h.cache.get(off.lookup, off.h.ctx);
    expect(off.h.origin.count()).toBe(2);

    for (const headers of [{ "Cache-Control": "private, no-store" }, { "Set-Cookie": "s=1" }] as Array<
      Record<string, string>
    >) {
      const h = createHarness({ label: "neg-private", negativeCacheMs: NEGATIVE_MS });
      const lookup = gpuLookup(h.keys, "gpu-private-404");
      h.origin.set(lookup.originPath, NOT_FOUND, { status: 404, headers });
      expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ status: 404, source: "BYPASS" });
      expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ status: 404, source: "BYPASS" });
      expect(h.origin.count()).toBe(2);
    }
  });

  it("a run of made-up ids: each asks the origin once, none reaches L2, and the negative entries stay in their budget", async () => {
    const maxBytes = 8 * 1024;
    const h = createHarness({
      label: "neg-run",
      negativeCacheMs: NEGATIVE_MS,
      negativeCacheMaxBytes: maxBytes,
    });
    for (let index = 0; index < 100; index += 1) {
      const lookup = gpuLookup(h.keys, `gpu-run-${index}`);
      h.origin.set(lookup.originPath, NOT_FOUND, { status: 404, headers: { "Cache-Control": "no-store" } });
      expect((await h.cache.get(lookup, h.ctx)).status).toBe(404);
    }
    await h.drain();
    expect(h.origin.count()).toBe(100);
    expect(h.store.calls.fill).toBe(0);
    const { negative } = h.cache.memory;
    expect(negative.maxBytes).toBe(maxBytes);
    expect(negative.bytes).toBeLessThanOrEqual(maxBytes);
    expect(negative.entries).toBeGreaterThan(0);
    expect(negative.entries).toBeLessThan(100);
  });
});

describe("memory report", () => {
  it("names every per-isolate structure with its entries, bytes and budget; pending work is empty once settled", async () => {
    const h = createHarness({
      label: "memory",
      negativeCacheMs: NEGATIVE_MS,
      pendingWorkMaxBytes: 64 * 1024,
    });
    const lookup = gpuLookup(h.keys, "gpu-memory-1");
    h.origin.set(lookup.originPath, { gpuId: "gpu-memory-1" }, { version: 1 });
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    const memory = h.cache.memory;
    expect(Object.keys(memory).sort()).toEqual(["entries", "loads", "negative", "refreshes", "tagHistory"]);
    expect(memory.entries).toMatchObject({ entries: 1, maxBytes: 4 * 1024 * 1024, tagIndex: { tags: 1 } });
    expect(memory.entries.bytes).toBe(h.cache.l1Usage.bytes);
    expect(memory.negative).toMatchObject({ entries: 0, bytes: 0, ttlMs: NEGATIVE_MS });
    expect(memory.loads).toEqual({ entries: 0, bytes: 0, maxBytes: 64 * 1024, refused: 0 });
    expect(memory.refreshes).toEqual({ entries: 0, bytes: 0, maxBytes: 64 * 1024, refused: 0 });
  });
});
