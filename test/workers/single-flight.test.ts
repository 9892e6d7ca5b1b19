/**
 * Concurrent misses for one key in one isolate share one fetch (docs/architecture.md "The tiers").
 * Keys used here are used by no other test file.
 */
import { describe, expect, it, vi } from "vitest";
import { edgeGet, makeTestApp, originCount, originText } from "./support";

describe("single-flight", () => {
  it("100 concurrent requests for one uncached key through one app instance → one origin fetch", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus/gpu-00401";
    const body = await originText(path);
    // Hold the origin's answer until every request is waiting, so none can be served from a finished fill.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const proxy = app.origin.handler;
    app.origin.handler = async (originPath, init) => {
      await gate;
      return proxy(originPath, init);
    };

    const pending = Array.from({ length: 100 }, () => app.get(path, {}, false));
    // Every request has missed L1 and joined the one load (those that waited on the log read first included).
    await vi.waitFor(
      () => {
        expect(app.origin.count()).toBe(1);
        expect(app.cache.stats.misses.l1).toBe(100);
      },
      { timeout: 5_000, interval: 5 },
    );
    release();
    const responses = await Promise.all(pending);

    expect(app.origin.count()).toBe(1);
    const etags = new Set<string | null>();
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers.get("X-Cache")).toBe("ORIGIN");
      expect(await response.text()).toBe(body);
      etags.add(response.headers.get("ETag"));
    }
    expect(etags.size).toBe(1);
    expect(app.cache.stats.hits.origin).toBe(1);
    expect(app.cache.stats.misses.l2).toBe(1);
    expect(app.cache.stats.misses.l1).toBe(100);
    // One log read, one L2 read, one tag-version read and one L2 fill, shared by all.
    expect(app.cache.stats.redisCommands).toBe(4);
    expect((await app.get(path)).headers.get("X-Cache")).toBe("L1");
  });

  it("the real Worker: 100 concurrent requests for one uncached key → one origin fetch", async () => {
    const path = "/v1/gpus/gpu-00402";
    const body = await originText(path);
    const asked = await originCount(path);
    const responses = await Promise.all(Array.from({ length: 100 }, () => edgeGet(path)));
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(body);
    }
    expect(await originCount(path)).toBe(asked + 1);
  });
});
