/**
 * Requests that wait on work another request started (the shared log read, a single-flight
 * load) wait on timers of their own and look at the work's outcome, never on the other
 * request's promise (in workerd that resumes them in the other request's I/O context).
 * When that work never settles — in workerd, its request was cancelled and its timers with
 * it — each waiting request gives up past the work's own limits, and the work is dropped so
 * later requests start afresh. Real timers, short limits.
 */
import { describe, expect, it } from "vitest";
import { OriginUnavailableError } from "../../../core/cache/tiered-cache";
import type { Timers } from "../../../core/time/clock";
import { systemTimers } from "../../../core/time/clock";
import { createHarness, gpuLookup } from "./helpers";

const HARD_TIMEOUT_MS = 50;
const ORIGIN_TIMEOUT_MS = 100;

/**
 * Timers as a cancelled request leaves them: its timeouts (the hard and origin limits, 50 ms
 * and more) never fire, while the short waits of the requests still running do.
 */
const cancelledLongTimers: Timers = {
  setTimeout: (callback, ms) => (ms >= HARD_TIMEOUT_MS ? undefined : systemTimers.setTimeout(callback, ms)),
  clearTimeout: (handle) => {
    if (handle !== undefined) systemTimers.clearTimeout(handle);
  },
};

describe("waiting on another request's work", () => {
  it("a log read that never settles holds a waiting request only past its limit, then the next due read starts anew", async () => {
    const h = createHarness({
      label: "shared-sync",
      l2HardTimeoutMs: HARD_TIMEOUT_MS,
      originTimeoutMs: ORIGIN_TIMEOUT_MS,
      timers: cancelledLongTimers,
    });
    const lookup = gpuLookup(h.keys, "gpu-shared-sync-1");
    h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    expect(h.store.calls.readLog).toBe(1);

    h.store.modes.readLog = "hang";
    h.clock.advance(500);
    try {
      void h.cache.get(lookup, h.ctx); // leads the read, which never settles
      const started = performance.now();
      const follower = await h.cache.get(lookup, h.ctx);
      const waited = performance.now() - started;
      expect(follower.source).toBe("L1");
      expect(waited).toBeGreaterThanOrEqual(HARD_TIMEOUT_MS);
      expect(waited).toBeLessThan(2_000);
      expect(h.store.calls.readLog).toBe(2);

      h.store.modes.readLog = "pass";
      h.clock.advance(500);
      const next = await h.cache.get(lookup, h.ctx);
      expect(next.source).toBe("L1");
      expect(h.store.calls.readLog).toBe(3);
    } finally {
      h.store.releaseHung();
      await h.drain();
    }
  });

  it("a load that never settles fails its followers past its limits, and the next request loads again", async () => {
    const h = createHarness({
      label: "shared-load",
      l2HardTimeoutMs: HARD_TIMEOUT_MS,
      l2SoftTimeoutMs: HARD_TIMEOUT_MS,
      originTimeoutMs: ORIGIN_TIMEOUT_MS,
      timers: cancelledLongTimers,
    });
    const warm = gpuLookup(h.keys, "gpu-shared-load-0");
    h.origin.set(warm.originPath, { v: 0 }, { version: 1 });
    await h.cache.get(warm, h.ctx); // sets the log cursor
    await h.drain();

    const lookup = gpuLookup(h.keys, "gpu-shared-load-1");
    const body = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    h.store.modes.get = "hang";
    try {
      void h.cache.get(lookup, h.ctx).catch(() => {}); // leads the load, whose L2 read never settles
      const started = performance.now();
      await expect(h.cache.get(lookup, h.ctx)).rejects.toBeInstanceOf(OriginUnavailableError);
      expect(performance.now() - started).toBeGreaterThanOrEqual(HARD_TIMEOUT_MS + ORIGIN_TIMEOUT_MS);
      expect(h.store.calls.get).toBe(2);

      h.store.modes.get = "pass";
      const next = await h.cache.get(lookup, h.ctx);
      expect(next).toMatchObject({ source: "ORIGIN", body });
      expect(h.store.calls.get).toBe(3);
    } finally {
      h.store.releaseHung();
      await h.drain();
    }
  });
});
