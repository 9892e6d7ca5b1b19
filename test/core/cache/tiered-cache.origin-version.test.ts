/**
 * Refills that carry their tags' version (core/tag-versions.ts) against a CDN in front of the
 * origin. The CDN here plays CloudFront: a shared cache in front of the sample origin
 * (dev/origin/app.ts, which ignores query parameters it does not know), keyed on the whole
 * path and query, that keeps every public copy it took, as CloudFront does for the
 * origin's s-maxage and until an invalidation completes. Events go through the event
 * Lambda's real applier, so the tag versions are the ones the apply script writes.
 */
import type { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { createOriginApp } from "../../../dev/origin/app";
import { createEventApplier } from "../../../lambdas/events/apply";
import { EventFactory, parsed } from "../../support/event-fixtures";
import { createHarness, customLookup, type Harness, type HarnessOptions, listingLookup } from "./helpers";

class FakeCdn {
  readonly asked: string[] = [];
  readonly #copies = new Map<string, { status: number; body: string; headers: [string, string][] }>();

  constructor(private readonly origin: Hono) {}

  readonly fetch = async (path: string): Promise<Response> => {
    this.asked.push(path);
    let copy = this.#copies.get(path);
    if (!copy) {
      const response = await this.origin.request(path);
      copy = { status: response.status, body: await response.text(), headers: [...response.headers] };
      if (response.status === 200 && /public/.test(response.headers.get("cache-control") ?? ""))
        this.#copies.set(path, copy);
    }
    return new Response(copy.body, { status: copy.status, headers: copy.headers });
  };
}

/** The event Lambda's Redis step on the harness's Redis and clock. */
function applierOf(h: Harness) {
  return createEventApplier(h.redis, h.keys, h.clock, DEFAULT_DATA_CLASS_POLICIES);
}

/** A booking behind a CDN: the booked GPU's listing, cached at the edge and at the CDN before it. */
async function bookedBehindCdn(label: string, options: HarnessOptions) {
  const factory = new EventFactory();
  const cdn = new FakeCdn(createOriginApp({ store: factory.store }));
  const h = createHarness({ label, fetchOrigin: cdn.fetch, ...options });
  const gpuId = factory.availableGpuId();
  const gpu = factory.store.getGpu(gpuId);
  const lookup = listingLookup(h.keys, {
    region: gpu?.region ?? "",
    type: gpu?.gpuType ?? "",
    status: "available",
  });
  const listed = (body: string) =>
    (JSON.parse(body) as { items: Array<{ gpuId: string }> }).items.some((item) => item.gpuId === gpuId);

  const before = await h.cache.get(lookup, h.ctx);
  await h.drain();
  expect(before.source).toBe("ORIGIN");
  expect(listed(before.body)).toBe(true);

  // The booking system books it (the origin changes), then its event arrives.
  const booking = factory.bookingCreated(gpuId);
  const [applied] = await applierOf(h).apply([parsed(booking.raw)]);
  expect(applied?.status).toBe("applied");
  // Past the sync interval: the next read drops the L1 entry; the event dropped it from L2.
  h.clock.advance(500);
  const after = await h.cache.get(lookup, h.ctx);
  await h.drain();
  return { h, cdn, lookup, listed, logId: applied?.logId ?? "", after };
}

describe("refills behind a CDN", () => {
  it("after an event, the refill asks for the versioned URL and gets the post-event body, though the CDN still holds the pre-event copy", async () => {
    const { h, cdn, lookup, listed, logId, after } = await bookedBehindCdn("cdn-versioned", {
      originVersionParam: "_v",
    });

    expect(after.source).toBe("ORIGIN");
    expect(listed(after.body)).toBe(false);
    expect(cdn.asked).toEqual([lookup.originPath, `${lookup.originPath}&_v=${logId}`]);
    expect(h.cache.stats.versionedOriginFetches).toBe(1);
    // The plain URL's copy is still the one from before the booking: only the version avoided it.
    expect(listed(await (await cdn.fetch(lookup.originPath)).text())).toBe(true);

    // L2 took the post-event body (another isolate reads it), and the edge key never saw the version.
    const other = await h.newEngine().get(lookup, h.ctx);
    expect(other.source).toBe("L2");
    expect(other.body).toBe(after.body);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L1");
  });

  it("without the parameter the same refill takes the CDN's pre-event copy into L2 (what the version prevents)", async () => {
    const { h, cdn, lookup, listed, after } = await bookedBehindCdn("cdn-plain", {});

    expect(cdn.asked).toEqual([lookup.originPath, lookup.originPath]);
    expect(listed(after.body)).toBe(true);
    expect((await h.newEngine().get(lookup, h.ctx)).body).toBe(after.body);
    expect(h.cache.stats.versionedOriginFetches).toBe(0);
    expect(h.store.calls.tagVersions).toBe(0);
  });

  it("a background refresh takes the versioned URL too", async () => {
    // No log sync after the first: the entry goes stale by age, not by the event.
    const factory = new EventFactory();
    const cdn = new FakeCdn(createOriginApp({ store: factory.store }));
    const h = createHarness({
      label: "cdn-refresh",
      fetchOrigin: cdn.fetch,
      originVersionParam: "_v",
      syncIntervalMs: 10 * 60_000,
    });
    const gpuId = factory.availableGpuId();
    const lookup = listingLookup(h.keys, { status: "available", limit: "60" });
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    const [applied] = await applierOf(h).apply([parsed(factory.bookingCreated(gpuId).raw)]);

    h.clock.advance(DEFAULT_DATA_CLASS_POLICIES.availability.l1FreshMs);
    const stale = await h.cache.get(lookup, h.ctx);
    expect(stale.source).toBe("STALE");
    await h.drain();

    expect(cdn.asked).toEqual([lookup.originPath, `${lookup.originPath}&_v=${applied?.logId}`]);
    const refreshed = await h.cache.get(lookup, h.ctx);
    expect(refreshed.source).toBe("L1");
    expect(refreshed.body).not.toBe(stale.body);
    expect(refreshed.body).not.toContain(`"gpuId":"${gpuId}"`);
  });
});

describe("which version a refill carries", () => {
  it("none before any event: the plain path, after one tag-version read", async () => {
    const h = createHarness({ label: "version-none", originVersionParam: "_v" });
    const lookup = customLookup(h.keys, "none", { tags: ["custom:none-a", "custom:none-b"] });

    const answer = await h.cache.get(lookup, h.ctx);
    await h.drain();

    expect(answer.source).toBe("ORIGIN");
    expect(h.origin.calls).toEqual([lookup.originPath]);
    expect(h.store.calls.tagVersions).toBe(1);
    // The log read, the L2 read, the tag versions, the fill.
    expect(h.cache.stats.redisCommands).toBe(4);
    expect(h.cache.stats.versionedOriginFetches).toBe(0);
  });

  it("the newest of the lookup's tags, compared as stream ids", async () => {
    const h = createHarness({ label: "version-newest", originVersionParam: "ver" });
    const lookup = customLookup(h.keys, "newest", { tags: ["custom:old", "custom:new", "custom:never"] });
    const factory = new EventFactory();
    const applier = applierOf(h);
    await applier.apply([parsed(factory.cacheInvalidate({ tags: ["custom:new"] }).raw)]);
    h.clock.advance(1);
    const [newest] = await applier.apply([parsed(factory.cacheInvalidate({ tags: ["custom:old"] }).raw)]);

    await h.cache.get(lookup, h.ctx);

    expect(h.origin.calls).toEqual([`${lookup.originPath}?ver=${newest?.logId}`]);
  });

  it("an L2 hit reads no versions; a lookup without tags never asks for any", async () => {
    const h = createHarness({ label: "version-skip", originVersionParam: "_v" });
    const lookup = customLookup(h.keys, "hit");
    await h.cache.get(lookup, h.ctx);
    await h.drain();
    expect(h.store.calls.tagVersions).toBe(1);

    expect((await h.newEngine().get(lookup, h.ctx)).source).toBe("L2");
    await h.cache.get(customLookup(h.keys, "untagged", { tags: [] }), h.ctx);
    expect(h.store.calls.tagVersions).toBe(1);
  });

  it("followers of a private answer ask the origin for the same versioned path", async () => {
    const h = createHarness({ label: "version-followers", originVersionParam: "_v" });
    const lookup = customLookup(h.keys, "private", { tags: ["custom:private"] });
    const [event] = await applierOf(h).apply([
      parsed(new EventFactory().cacheInvalidate({ tags: ["custom:private"] }).raw),
    ]);
    const versioned = `${lookup.originPath}?_v=${event?.logId}`;
    h.origin.set(versioned, { mine: true }, { headers: { "Cache-Control": "private" } });

    const release = h.origin.hold();
    const leader = h.cache.get(lookup, h.ctx);
    await h.origin.called(1);
    // Joins the leader's load at once: nothing it awaits comes before.
    const follower = h.cache.get(lookup, h.ctx);
    release();

    expect((await Promise.all([leader, follower])).map((answer) => answer.source)).toEqual([
      "BYPASS",
      "BYPASS",
    ]);
    expect(h.origin.calls).toEqual([versioned, versioned]);
    expect(h.cache.stats.versionedOriginFetches).toBe(2);
  });
});

describe("when the tag versions cannot be read", () => {
  async function withVersion(options: HarnessOptions, label: string) {
    const h = createHarness({ label, originVersionParam: "_v", ...options });
    const lookup = customLookup(h.keys, label, { tags: [`custom:${label}`] });
    await applierOf(h).apply([parsed(new EventFactory().cacheInvalidate({ tags: [`custom:${label}`] }).raw)]);
    return { h, lookup };
  }

  it("a failing read: the origin is asked the plain path, one Redis error is counted and logged", async () => {
    const { h, lookup } = await withVersion({}, "version-fail");
    h.store.modes.tagVersions = "fail";

    const answer = await h.cache.get(lookup, h.ctx);
    await h.drain();

    expect(answer.source).toBe("ORIGIN");
    expect(h.origin.calls).toEqual([lookup.originPath]);
    expect(h.cache.stats.redisErrors).toBe(1);
    expect(h.cache.stats.versionedOriginFetches).toBe(0);
    expect(h.logged.map((entry) => entry[0])).toEqual(["Redis call failed"]);
  });

  it("a read past the hard timeout: the plain path, counted, not logged (a slow Redis is expected trouble)", async () => {
    const { h, lookup } = await withVersion({ l2SoftTimeoutMs: 20, l2HardTimeoutMs: 50 }, "version-hang");
    h.store.modes.tagVersions = "hang";

    const answer = await h.cache.get(lookup, h.ctx);
    h.store.releaseHung();
    await h.drain();

    expect(answer.source).toBe("ORIGIN");
    expect(h.origin.calls).toEqual([lookup.originPath]);
    expect(h.cache.stats.redisErrors).toBe(1);
    expect(h.logged).toEqual([]);
  });
});
