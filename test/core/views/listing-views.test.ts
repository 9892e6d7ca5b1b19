/**
 * The listing views against the sample origin: warmed from it page by page, then kept by the
 * apply-event script, a view answers every filter and order exactly as the origin's listing does
 * (items and total), on real Redis and on the emulator.
 */
import { describe, expect, it } from "vitest";
import { createRedisL2Store, type L2Store } from "../../../core/cache/l2-store";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import type { MarketStats } from "../../../core/domain";
import { GPU_STATUSES } from "../../../core/domain";
import { createKeyspace, LISTING_ORDERS, type ListingOrder } from "../../../core/keys";
import { ViewWarmError, warmListingViews } from "../../../core/views/warm-listing-views";
import { createOriginApp } from "../../../dev/origin/app";
import { createEventApplier } from "../../../lambdas/events/apply";
import { EventFactory, parsed, type RawEvent } from "../../support/event-fixtures";
import { BACKENDS, useBackend } from "../../support/redis";

const NOW = 1_800_000_000_000;
const clock = { now: () => NOW };

function listingPath(region?: string, type?: string, status?: string, order?: ListingOrder, limit = 500) {
  const query = new URLSearchParams();
  if (region) query.set("region", region);
  if (type) query.set("type", type);
  if (status) query.set("status", status);
  if (order && order !== "id") query.set("sort", order);
  query.set("limit", String(limit));
  return `/v1/gpus?${query}`;
}

describe.for(BACKENDS)("listing views · $name", (backend) => {
  const { redis, prefix } = useBackend(backend);

  async function setup(label: string, options: { pageSize?: number } = {}) {
    const factory = new EventFactory();
    const origin = createOriginApp({ store: factory.store });
    const keys = createKeyspace(prefix(`views-${label}`));
    const originPaths: string[] = [];
    const fetchOrigin = async (path: string) => {
      originPaths.push(path);
      return origin.request(path);
    };
    const l2 = createRedisL2Store(redis, keys);
    const applier = createEventApplier(redis, keys, clock, DEFAULT_DATA_CLASS_POLICIES);
    const warm = () =>
      warmListingViews({
        redis,
        keys,
        fetchOrigin,
        clock,
        policies: DEFAULT_DATA_CLASS_POLICIES,
        ...options,
      });
    /** Every filter and order the origin and the view both answer, compared item by item. */
    const expectViewsMatchOrigin = async () => {
      const regions = [undefined, ...factory.store.listRegions().map((region) => region.regionId)];
      const types = [undefined, ...factory.store.listGpuTypes().map((type) => type.gpuType)];
      let compared = 0;
      for (const region of regions)
        for (const type of types)
          for (const status of [undefined, ...GPU_STATUSES])
            for (const order of LISTING_ORDERS) {
              const limit = 7;
              const expected = await (
                await origin.request(listingPath(region, type, status, order, limit))
              ).json();
              const read = await readListing(l2, keys.listingView(region, type, status, order), limit);
              expect(read.outcome, `${region} ${type} ${status} ${order}`).toBe("ok");
              if (read.outcome !== "ok") continue;
              expect(JSON.parse(read.body), `${region} ${type} ${status} ${order}`).toEqual(expected);
              compared += 1;
            }
      return compared;
    };
    /**
     * Every price, stats and order-book list as its collection view reads it, against the origin;
     * `incomplete` names the order-book types expected to fall back (a booking dropped a book).
     */
    const expectCollectionsMatchOrigin = async (incomplete: readonly string[] = []) => {
      const regions = factory.store.listRegions().map((region) => region.regionId);
      const types = factory.store.listGpuTypes().map((type) => type.gpuType);
      const lists: Array<[string, string]> = [];
      for (const type of [undefined, ...types])
        for (const region of [undefined, ...regions]) {
          if (type && region) continue;
          const query = new URLSearchParams({ ...(type ? { type } : {}), ...(region ? { region } : {}) });
          lists.push([`/v1/pricing?${query}`, keys.collectionView("prices", type, region)]);
          lists.push([`/v1/market/stats?${query}`, keys.collectionView("stats", region, type)]);
        }
      for (const type of types)
        lists.push([`/v1/orderbook/${type}`, keys.collectionView("orderbooks", type, undefined)]);
      for (const [path, view] of lists) {
        const read = await readListing(l2, view, 0);
        if (incomplete.some((type) => path === `/v1/orderbook/${type}`)) {
          expect(read.outcome, path).toBe("incomplete");
          continue;
        }
        expect(read.outcome, path).toBe("ok");
        if (read.outcome === "ok")
          expect(JSON.parse(read.body), path).toEqual(await (await origin.request(path)).json());
      }
      return lists.length;
    };
    return {
      factory,
      keys,
      l2,
      applier,
      warm,
      originPaths,
      expectViewsMatchOrigin,
      expectCollectionsMatchOrigin,
    };
  }

  /** One listing, as a request's miss reads it. */
  async function readListing(l2: L2Store, key: string, limit: number) {
    const read = await l2.readListings([{ key, limit }]);
    if (read.outcome === "not-ready") return read;
    const [body] = read.bodies;
    return body === undefined ? { outcome: "incomplete" as const } : { outcome: "ok" as const, body };
  }

  it("answers nothing until warmed; a warm walks the origin by pages and every view then matches it", async () => {
    const s = await setup("warm", {});
    expect(await readListing(s.l2, s.keys.listingView(undefined, undefined, undefined, "id"), 10)).toEqual({
      outcome: "not-ready",
    });
    const report = await s.warm();
    expect(report).toMatchObject({ outcome: "warmed", gpus: 60, written: 60, newer: 0, warmedAt: NOW });
    const types = s.factory.store.listGpuTypes().map((type) => type.gpuType);
    expect(s.originPaths).toEqual([
      "/v1/gpus?limit=500",
      "/v1/gpu-types",
      "/v1/pricing",
      "/v1/market/stats",
      ...types.map((type) => `/v1/orderbook/${type}`),
    ]);
    expect(await s.expectViewsMatchOrigin()).toBeGreaterThan(100);
    expect(await s.expectCollectionsMatchOrigin()).toBeGreaterThan(20);
  });

  it("bookings, cancellations, status, price, provider, stats and order-book events keep every view equal to the origin", async () => {
    const s = await setup("events");
    await s.warm();
    // Each change, then the stats it moved: the booking system re-derives them and sends them.
    const withStats = (made: { raw: RawEvent; change: { marketStats: readonly MarketStats[] } }) => [
      made.raw,
      ...made.change.marketStats.map((stats) => s.factory.marketStatsUpdated(stats).raw),
    ];
    const booked = s.factory.bookingCreated();
    const second = s.factory.bookingCreated();
    const events = [
      ...withStats(booked),
      ...withStats(second),
      ...withStats(s.factory.gpuStatusChanged()),
      ...withStats(s.factory.pricingUpdated(0.5)),
      ...withStats(s.factory.providerStatusChanged("maintenance")),
      s.factory.orderBookUpdated().raw,
    ];
    const results = await s.applier.apply(events.map(parsed));
    expect(results.map((result) => result.status)).toEqual(events.map(() => "applied"));
    // Stats a change dropped without moving them are not re-sent with it: the booking system's
    // re-send of every pair (stale where Redis still holds that version) writes those back.
    await s.applier.apply(
      s.factory.store.listMarketStats().map((stats) => parsed(s.factory.marketStatsUpdated(stats).raw)),
    );
    expect(await s.expectViewsMatchOrigin()).toBeGreaterThan(100);
    // A booking drops its pair's order book (derived, no event re-sent it): that type's list falls back.
    const dropped = [...new Set([booked.change.gpu.gpuType, second.change.gpu.gpuType])];
    expect(await s.expectCollectionsMatchOrigin(dropped)).toBeGreaterThan(20);
  });

  it("a warm keeps the newer record an event wrote, and a record moved past its view is incomplete", async () => {
    const s = await setup("race");
    // The event lands first: the origin's page (read before the booking here) is older.
    const staleOrigin = createOriginApp({ store: new EventFactory().store });
    const booked = s.factory.bookingCreated();
    await s.applier.apply([parsed(booked.raw)]);
    const report = await warmListingViews({
      redis,
      keys: s.keys,
      fetchOrigin: async (path) => staleOrigin.request(path),
      clock,
      policies: DEFAULT_DATA_CLASS_POLICIES,
    });
    expect(report).toMatchObject({ outcome: "warmed", newer: 1, written: 59 });
    const gpu = booked.change.gpu;
    const busy = await readListing(s.l2, s.keys.listingView(gpu.region, gpu.gpuType, "busy", "id"), 500);
    expect(busy.outcome).toBe("ok");
    if (busy.outcome === "ok")
      expect(JSON.parse(busy.body).items.map((item: { gpuId: string }) => item.gpuId)).toContain(gpu.gpuId);

    // A fill from the origin (after a lost event) writes a newer record than the view describes.
    const key = s.keys.gpu(gpu.gpuId);
    await redis.hset(key, { v: String(gpu.version + 5) });
    expect(await readListing(s.l2, s.keys.listingView(gpu.region, gpu.gpuType, "busy", "id"), 500)).toEqual({
      outcome: "incomplete",
    });
  });

  it("a GPU left behind in a view it no longer matches (members entry lost, then a change) makes that view ask the origin", async () => {
    const s = await setup("left-behind");
    await s.warm();
    const gpuId = s.factory.availableGpuId();
    const available = s.keys.listingView(undefined, undefined, "available", "id");
    const listed = async () => {
      const read = await readListing(s.l2, available, 500);
      return read.outcome === "ok"
        ? JSON.parse(read.body).items.map((item: { gpuId: string }) => item.gpuId)
        : read.outcome;
    };
    expect(await listed()).toContain(gpuId);
    // An eviction takes the GPU's members entry: the index no longer knows which sets hold it.
    await redis.hdel(s.keys.viewMembers, s.keys.gpu(gpuId));
    const offline = s.factory.gpuStatusChanged(gpuId, "offline");
    expect((await s.applier.apply([parsed(offline.raw)]))[0]?.status).toBe("applied");

    // The available view still holds it; listing it there would show an offline GPU as available.
    const members = await redis.zrange(available, 0, -1);
    expect(members).toContain(s.keys.gpu(gpuId));
    expect(await listed()).toBe("incomplete");
    // Views the GPU does belong to answer, and show it offline.
    const offlineView = await readListing(
      s.l2,
      s.keys.listingView(undefined, undefined, "offline", "id"),
      500,
    );
    expect(offlineView.outcome).toBe("ok");
    if (offlineView.outcome === "ok")
      expect(JSON.parse(offlineView.body).items).toContainEqual(
        expect.objectContaining({ gpuId, status: "offline" }),
      );
  });

  it("pages by 'after' when the fleet is larger than a page, and refuses an origin that does not page", async () => {
    const s = await setup("paged", { pageSize: 25 });
    expect(await s.warm()).toMatchObject({ outcome: "warmed", pages: 3, gpus: 60 });
    const gpuPages = s.originPaths.filter((path) => path.startsWith("/v1/gpus?"));
    expect(gpuPages.map((path) => new URL(path, "http://o").searchParams.get("after"))).toEqual([
      null,
      expect.any(String),
      expect.any(String),
    ]);
    expect(await s.expectViewsMatchOrigin()).toBeGreaterThan(100);

    const origin = createOriginApp({ store: s.factory.store });
    const ignoringAfter = warmListingViews({
      redis,
      keys: createKeyspace(prefix("views-nopaging")),
      // An origin without keyset paging hands the first page back whatever 'after' says.
      fetchOrigin: async (path) => origin.request(path.replace(/&after=[^&]*/, "")),
      clock,
      policies: DEFAULT_DATA_CLASS_POLICIES,
      pageSize: 25,
    });
    await expect(ignoringAfter).rejects.toThrow(ViewWarmError);
    await expect(ignoringAfter).rejects.toThrow(/does not page by 'after'/);
  });
});
