import { describe, expect, it } from "vitest";
import {
  bookingSchema,
  gpuSchema,
  type MarketStats,
  marketStatsSchema,
  providerSchema,
} from "../../../core/domain";
import { OriginConflictError, OriginNotFoundError, OriginValidationError } from "../../../dev/origin/errors";
import { mulberry32 } from "../../../dev/origin/generate";
import { MarketplaceStore } from "../../../dev/origin/store";
import { must, pickGpu, TestClock } from "./helpers";

function makeStore() {
  const clock = new TestClock();
  return { store: new MarketplaceStore({ now: clock.now }), clock };
}

/** Recomputes stats from the GPUs, independently of the store's own bookkeeping. */
function expectedStats(store: MarketplaceStore, region: string, gpuType: string) {
  const gpus = store.listGpus({ region, gpuType });
  const available = gpus.filter((gpu) => gpu.status === "available");
  const busy = gpus.filter((gpu) => gpu.status === "busy").length;
  const prices = available.map((gpu) => gpu.pricePerHour);
  return {
    totalCount: gpus.length,
    availableCount: available.length,
    busyCount: busy,
    utilisation: available.length + busy === 0 ? 0 : busy / (available.length + busy),
    averagePricePerHour: prices.length === 0 ? null : prices.reduce((a, b) => a + b, 0) / prices.length,
    minPricePerHour: prices.length === 0 ? null : Math.min(...prices),
  };
}

function expectStatsConsistent(store: MarketplaceStore) {
  for (const stats of store.listMarketStats()) {
    marketStatsSchema.parse(stats);
    const expected = expectedStats(store, stats.region, stats.gpuType);
    expect(stats).toMatchObject({ ...expected, averagePricePerHour: expect.anything() });
    if (expected.averagePricePerHour === null) expect(stats.averagePricePerHour).toBeNull();
    else expect(stats.averagePricePerHour).toBeCloseTo(expected.averagePricePerHour, 3);
  }
}

function statsOf(store: MarketplaceStore, gpu: { region: string; gpuType: string }): MarketStats {
  const stats = store.getMarketStats(gpu.region, gpu.gpuType);
  if (!stats) throw new Error("no stats");
  return stats;
}

describe("MarketplaceStore stats", () => {
  it("derives stats for every (region, type) from the GPUs at version 1", () => {
    const { store } = makeStore();
    expect(store.listMarketStats()).toHaveLength(store.listRegions().length * store.listGpuTypes().length);
    expect(store.listMarketStats().every((stats) => stats.version === 1)).toBe(true);
    expectStatsConsistent(store);
  });

  it("stays consistent with the GPUs through a random sequence of mutations", () => {
    const { store, clock } = makeStore();
    const rng = mulberry32(99);
    const gpuIds = store.listGpus().map((gpu) => gpu.gpuId);
    const providerIds = store.listProviders().map((provider) => provider.providerId);
    const types = store.listGpuTypes().map((type) => type.gpuType);
    const regions = store.listRegions().map((region) => region.regionId);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
    let applied = 0;
    for (let step = 0; step < 400; step++) {
      clock.advance(1000);
      const roll = rng();
      try {
        if (roll < 0.35) store.createBooking({ gpuId: pick(gpuIds), userId: "user-x" });
        else if (roll < 0.6) {
          const open = store.listBookings().filter((booking) => booking.status === "confirmed");
          store.cancelBooking(pick(open).bookingId);
        } else if (roll < 0.75)
          store.setGpuStatus(pick(gpuIds), pick(["available", "maintenance", "offline"]));
        else if (roll < 0.85) store.setPrice(pick(types), pick(regions), Math.round(rng() * 300) / 100);
        else store.setProviderStatus(pick(providerIds), pick(["active", "maintenance", "offline"]));
        applied += 1;
      } catch (error) {
        // Refused transitions are part of the contract; anything else is a bug.
        expect(error).toBeInstanceOf(OriginConflictError);
      }
    }
    expect(applied).toBeGreaterThan(200);
    expectStatsConsistent(store);
    for (const gpu of store.listGpus()) {
      const confirmed = store.listBookings().filter((b) => b.gpuId === gpu.gpuId && b.status === "confirmed");
      expect(confirmed.length).toBeLessThanOrEqual(1);
      if (gpu.status === "busy") expect(confirmed).toHaveLength(1);
    }
  });
});

describe("MarketplaceStore bookings", () => {
  it("createBooking makes the GPU busy, bumps versions by one and moves the stats", () => {
    const { store, clock } = makeStore();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const before = statsOf(store, gpu);
    const at = clock.advance(60_000);

    const change = store.createBooking({ gpuId: gpu.gpuId, userId: "user-0001" });

    expect(bookingSchema.parse(change.booking)).toEqual({
      bookingId: expect.stringMatching(/^bk-/),
      gpuId: gpu.gpuId,
      userId: "user-0001",
      startsAt: at,
      endsAt: new Date(Date.parse(at) + 3_600_000).toISOString(),
      pricePerHour: gpu.pricePerHour,
      status: "confirmed",
    });
    expect(change.gpu).toEqual({ ...gpu, status: "busy", version: gpu.version + 1, updatedAt: at });
    expect(store.getGpu(gpu.gpuId)).toEqual(change.gpu);
    const after = statsOf(store, gpu);
    expect(after.availableCount).toBe(before.availableCount - 1);
    expect(after.busyCount).toBe(before.busyCount + 1);
    expect(after.version).toBe(before.version + 1);
    expect(after.updatedAt).toBe(at);
    expect(change.marketStats).toEqual([after]);
    expect(store.getBooking(change.booking.bookingId)).toEqual(change.booking);
  });

  it("never reuses a booking id and rejects a duplicate explicit one", () => {
    const { store } = makeStore();
    const [a, b] = store.listGpus({ status: "available" });
    if (!a || !b) throw new Error("fixture");
    const first = store.createBooking({ gpuId: a.gpuId, userId: "u1" });
    expect(store.listBookings().filter((bk) => bk.bookingId === first.booking.bookingId)).toHaveLength(1);
    expect(() =>
      store.createBooking({ bookingId: first.booking.bookingId, gpuId: b.gpuId, userId: "u1" }),
    ).toThrow(OriginConflictError);
    const second = store.createBooking({ bookingId: "custom-1", gpuId: b.gpuId, userId: "u1" });
    expect(second.booking.bookingId).toBe("custom-1");
  });

  it("refuses to book an unavailable or unknown GPU, or a backwards time range", () => {
    const { store } = makeStore();
    const busy = pickGpu(store.listGpus(), (g) => g.status === "busy");
    const free = pickGpu(store.listGpus(), (g) => g.status === "available");
    expect(() => store.createBooking({ gpuId: busy.gpuId, userId: "u" })).toThrow(OriginConflictError);
    expect(() => store.createBooking({ gpuId: busy.gpuId, userId: "u" })).toThrow(/^gpuId: .*busy/);
    expect(() => store.createBooking({ gpuId: "gpu-nope", userId: "u" })).toThrow(OriginNotFoundError);
    expect(() =>
      store.createBooking({
        gpuId: free.gpuId,
        userId: "u",
        startsAt: "2026-11-05T12:00:00Z",
        endsAt: "2026-11-05T11:00:00Z",
      }),
    ).toThrow(OriginValidationError);
    expect(store.getGpu(free.gpuId)).toBe(free);
  });

  it("cancelBooking frees the GPU, bumps its version and refuses a second cancel", () => {
    const { store, clock } = makeStore();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const { booking, gpu: booked } = store.createBooking({ gpuId: gpu.gpuId, userId: "u" });
    const statsBooked = statsOf(store, gpu);
    const at = clock.advance(5_000);

    const change = store.cancelBooking(booking.bookingId);

    expect(change.booking).toEqual({ ...booking, status: "cancelled" });
    expect(change.gpu).toMatchObject({ status: "available", version: booked.version + 1, updatedAt: at });
    expect(statsOf(store, gpu).availableCount).toBe(statsBooked.availableCount + 1);
    expect(change.marketStats[0]?.version).toBe(statsBooked.version + 1);
    expect(() => store.cancelBooking(booking.bookingId)).toThrow(/already cancelled/);
    expect(() => store.cancelBooking("bk-missing")).toThrow(OriginNotFoundError);
  });

  it("cancelling while the provider is in maintenance leaves the GPU in maintenance", () => {
    const { store } = makeStore();
    const booked = pickGpu(store.listGpus(), (g) => g.status === "busy");
    const booking = store.listBookings().find((b) => b.gpuId === booked.gpuId && b.status === "confirmed");
    if (!booking) throw new Error("fixture");
    store.setProviderStatus(booked.providerId, "maintenance");
    const change = store.cancelBooking(booking.bookingId);
    expect(change.gpu.status).toBe("maintenance");
    store.setProviderStatus(booked.providerId, "active");
    expect(store.getGpu(booked.gpuId)?.status).toBe("available");
  });
});

describe("MarketplaceStore GPU changes", () => {
  it("setGpuStatus bumps by one, ignores a no-op and refuses to free a booked GPU", () => {
    const { store, clock } = makeStore();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    const at = clock.advance(1);
    const change = store.setGpuStatus(gpu.gpuId, "offline");
    expect(change.gpu).toMatchObject({ status: "offline", version: gpu.version + 1, updatedAt: at });
    expect(statsOf(store, gpu).totalCount).toBe(change.marketStats[0]?.totalCount);
    expect(store.setGpuStatus(gpu.gpuId, "offline")).toEqual({ gpu: change.gpu, marketStats: [] });

    const busy = pickGpu(store.listGpus(), (g) => g.status === "busy");
    expect(() => store.setGpuStatus(busy.gpuId, "available")).toThrow(/^status: .*confirmed booking/);
    expect(() => store.setGpuStatus("gpu-nope", "offline")).toThrow(OriginNotFoundError);
  });

  it("upsertGpu creates a GPU at version 1 and lists it under its provider", () => {
    const { store, clock } = makeStore();
    const provider = must(store.listProviders().find((p) => p.status === "active"));
    const before = store.getMarketStats(provider.region, "L40S");
    const at = clock.advance(10);

    const change = store.upsertGpu({ gpuId: "gpu-new-1", providerId: provider.providerId, gpuType: "L40S" });

    expect(gpuSchema.parse(change.gpu)).toMatchObject({
      gpuId: "gpu-new-1",
      region: provider.region,
      status: "available",
      memoryGb: 48,
      pricePerHour: store.getPrice("L40S", provider.region)?.pricePerHour,
      version: 1,
      updatedAt: at,
    });
    expect(change.created).toBe(true);
    expect(change.providers).toHaveLength(1);
    expect(providerSchema.parse(change.providers[0])).toMatchObject({
      version: provider.version + 1,
      gpuIds: [...provider.gpuIds, "gpu-new-1"],
    });
    expect(store.getMarketStats(provider.region, "L40S")?.totalCount).toBe((before?.totalCount ?? 0) + 1);
  });

  it("upsertGpu updates given fields only, and moving a GPU's type updates both stats", () => {
    const { store } = makeStore();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available" && g.gpuType === "RTX-4090");
    const oldStats = statsOf(store, gpu);
    const newStats = statsOf(store, { region: gpu.region, gpuType: "A10G" });

    const change = store.upsertGpu({ gpuId: gpu.gpuId, gpuType: "A10G" });

    expect(change.gpu).toMatchObject({
      ...gpu,
      gpuType: "A10G",
      version: gpu.version + 1,
      updatedAt: expect.any(String),
    });
    expect(change.created).toBe(false);
    expect(change.providers).toEqual([]);
    expect(statsOf(store, gpu).totalCount).toBe(oldStats.totalCount - 1);
    expect(statsOf(store, change.gpu).totalCount).toBe(newStats.totalCount + 1);
    expect(change.marketStats.map((s) => s.gpuType).sort()).toEqual(["A10G", "RTX-4090"]);
    expect(store.upsertGpu({ gpuId: gpu.gpuId, gpuType: "A10G" }).gpu.version).toBe(change.gpu.version);
  });

  it("upsertGpu moves a GPU between providers and rejects bad references", () => {
    const { store } = makeStore();
    const gpu = store.listGpus()[0];
    if (!gpu) throw new Error("fixture");
    const from = store.getProvider(gpu.providerId);
    const to = store
      .listProviders()
      .find((p) => p.region === gpu.region && p.providerId !== gpu.providerId && p.status === "active");
    if (!from || !to) throw new Error("fixture");
    const change = store.upsertGpu({ gpuId: gpu.gpuId, providerId: to.providerId });
    expect(change.providers.map((p) => [p.providerId, p.version])).toEqual([
      [from.providerId, from.version + 1],
      [to.providerId, to.version + 1],
    ]);
    expect(store.getProvider(from.providerId)?.gpuIds).not.toContain(gpu.gpuId);
    expect(store.getProvider(to.providerId)?.gpuIds).toContain(gpu.gpuId);

    const elsewhere = store.listRegions().find((r) => r.regionId !== to.region)?.regionId ?? "";
    expect(() => store.upsertGpu({ gpuId: gpu.gpuId, region: elsewhere })).toThrow(/^region: /);
    expect(() => store.upsertGpu({ gpuId: "gpu-x", gpuType: "L40S" })).toThrow(OriginValidationError);
    expect(() => store.upsertGpu({ gpuId: "gpu-x", providerId: "prov-nope", gpuType: "L40S" })).toThrow(
      /^providerId: /,
    );
    expect(() => store.upsertGpu({ gpuId: gpu.gpuId, gpuType: "TPU-v5" })).toThrow(OriginNotFoundError);
  });
});

describe("MarketplaceStore prices, providers and order books", () => {
  it("setPrice reprices every GPU of the pair, bumps each by one and updates the stats", () => {
    const { store, clock } = makeStore();
    const price = store.getPrice("H100-SXM", "eu-west");
    const pairGpus = store.listGpus({ gpuType: "H100-SXM", region: "eu-west" });
    const bystander = pickGpu(store.listGpus(), (g) => g.gpuType === "H100-SXM" && g.region === "us-east");
    const at = clock.advance(1);

    const change = store.setPrice("H100-SXM", "eu-west", 4.25);

    expect(change.price).toEqual({
      ...price,
      pricePerHour: 4.25,
      version: (price?.version ?? 0) + 1,
      updatedAt: at,
    });
    expect(change.gpus).toHaveLength(pairGpus.length);
    for (const old of pairGpus) {
      expect(store.getGpu(old.gpuId)).toMatchObject({
        pricePerHour: 4.25,
        version: old.version + 1,
        updatedAt: at,
      });
    }
    const stats = store.getMarketStats("eu-west", "H100-SXM");
    expect(stats?.averagePricePerHour).toBe(4.25);
    expect(stats?.minPricePerHour).toBe(4.25);
    expect(change.marketStats).toEqual([stats]);
    expect(store.getGpu(bystander.gpuId)).toBe(bystander);
    expect(store.setPrice("H100-SXM", "eu-west", 4.25)).toEqual({
      price: change.price,
      gpus: [],
      marketStats: [],
    });
    expect(() => store.setPrice("H100-SXM", "mars-1", 1)).toThrow(/^region: /);
    expect(() => store.setPrice("H100-SXM", "eu-west", -1)).toThrow(OriginValidationError);
  });

  it("setProviderStatus fans out to every GPU of the provider and back", () => {
    const { store } = makeStore();
    const provider = store
      .listProviders()
      .find(
        (p) =>
          p.status === "active" &&
          p.gpuIds.some((id) => store.getGpu(id)?.status === "busy") &&
          p.gpuIds.some((id) => store.getGpu(id)?.status === "available"),
      );
    if (!provider) throw new Error("fixture");
    const before = new Map(provider.gpuIds.map((id) => [id, store.getGpu(id)]));
    const others = store.listGpus().filter((g) => g.providerId !== provider.providerId);

    const down = store.setProviderStatus(provider.providerId, "maintenance");

    expect(down.provider).toMatchObject({ status: "maintenance", version: provider.version + 1 });
    for (const id of provider.gpuIds) {
      const old = before.get(id);
      const now = store.getGpu(id);
      expect(now?.status).toBe("maintenance");
      expect(now?.version).toBe((old?.version ?? 0) + (old?.status === "maintenance" ? 0 : 1));
    }
    expect(down.gpus.length).toBe([...before.values()].filter((g) => g?.status !== "maintenance").length);
    expect(down.marketStats.length).toBeGreaterThan(0);
    expect(store.listGpus().filter((g) => g.providerId !== provider.providerId)).toEqual(others);
    expect(() => store.setGpuStatus(provider.gpuIds[0] ?? "", "available")).toThrow(/^status: provider/);

    const up = store.setProviderStatus(provider.providerId, "active");
    expect(up.provider.version).toBe(provider.version + 2);
    const booked = new Set(
      store
        .listBookings()
        .filter((b) => b.status === "confirmed")
        .map((b) => b.gpuId),
    );
    for (const id of provider.gpuIds) {
      expect(store.getGpu(id)?.status).toBe(booked.has(id) ? "busy" : "available");
    }
    expect(() => store.setProviderStatus("prov-nope", "active")).toThrow(OriginNotFoundError);
  });

  it("setOrderBook stores levels in book order and bumps the version only on change", () => {
    const { store, clock } = makeStore();
    const book = store.getOrderBook("A10G", "ap-southeast");
    const at = clock.advance(1);
    const change = store.setOrderBook("A10G", "ap-southeast", {
      bids: [
        { pricePerHour: 0.5, quantity: 1 },
        { pricePerHour: 0.7, quantity: 2 },
      ],
      asks: [
        { pricePerHour: 0.95, quantity: 3 },
        { pricePerHour: 0.9, quantity: 4 },
      ],
    });
    expect(change.orderBook).toEqual({
      gpuType: "A10G",
      region: "ap-southeast",
      bids: [
        { pricePerHour: 0.7, quantity: 2 },
        { pricePerHour: 0.5, quantity: 1 },
      ],
      asks: [
        { pricePerHour: 0.9, quantity: 4 },
        { pricePerHour: 0.95, quantity: 3 },
      ],
      version: (book?.version ?? 0) + 1,
      updatedAt: at,
    });
    const same = store.setOrderBook("A10G", "ap-southeast", {
      bids: change.orderBook.bids,
      asks: change.orderBook.asks,
    });
    expect(same.orderBook.version).toBe(change.orderBook.version);
    expect(() =>
      store.setOrderBook("A10G", "ap-southeast", { bids: [{ pricePerHour: 1, quantity: 0 }], asks: [] }),
    ).toThrow(/^bids\[0\]\.quantity: /);
  });
});

describe("MarketplaceStore records and reset", () => {
  it("hands out frozen snapshots that later changes do not alter", () => {
    const { store } = makeStore();
    const gpu = pickGpu(store.listGpus(), (g) => g.status === "available");
    store.setGpuStatus(gpu.gpuId, "offline");
    expect(gpu.status).toBe("available");
    expect(Object.isFrozen(gpu)).toBe(true);
    expect(Object.isFrozen(store.getProvider(gpu.providerId)?.gpuIds)).toBe(true);
  });

  it("uses the wall clock when no clock is injected", () => {
    const store = new MarketplaceStore({ gpuCount: 20, providerCount: 4 });
    const gpu = pickGpu(store.listGpus(), (g) => g.status !== "offline");
    const before = Date.now();
    const { gpu: changed } = store.setGpuStatus(gpu.gpuId, "offline");
    expect(Date.parse(changed.updatedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(changed.updatedAt)).toBeLessThanOrEqual(Date.now());
  });

  it("reset regenerates from the seed and can switch seeds", () => {
    const { store } = makeStore();
    const original = store.listGpus();
    const gpu = pickGpu(original, (g) => g.status === "available");
    store.createBooking({ gpuId: gpu.gpuId, userId: "u" });
    const summary = store.reset();
    expect(summary).toMatchObject({ seed: 42, counts: { gpus: 2000, providers: 50 } });
    expect(store.listGpus()).toEqual(original);
    expect(store.reset({ seed: 5, gpuCount: 100 }).counts.gpus).toBe(100);
    expect(store.seed).toBe(5);
    expect(store.listGpus()).not.toEqual(original.slice(0, 100));
  });
});
