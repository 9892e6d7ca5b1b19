import { describe, expect, it } from "vitest";
import {
  bookingSchema,
  gpuSchema,
  gpuTypeSchema,
  orderBookSchema,
  priceSchema,
  providerSchema,
  regionSchema,
} from "../../../core/domain";
import { BASE_TIME, generateMarketplace, mulberry32 } from "../../../dev/origin/generate";

const data = generateMarketplace();

describe("generateMarketplace determinism", () => {
  it("gives deep-equal, byte-identical data for the same seed", () => {
    const again = generateMarketplace({ seed: 42 });
    expect(again).toEqual(data);
    expect(JSON.stringify(again)).toBe(JSON.stringify(data));
  });

  it("gives different data for a different seed", () => {
    const other = generateMarketplace({ seed: 43 });
    expect(other.seed).toBe(43);
    expect(JSON.stringify(other.gpus)).not.toBe(JSON.stringify(data.gpus));
  });

  it("derives every timestamp from the fixed base time, not the wall clock", () => {
    const stamps = [
      ...data.gpus.map((gpu) => gpu.updatedAt),
      ...data.providers.map((provider) => provider.updatedAt),
      ...data.prices.map((price) => price.updatedAt),
      ...data.orderBooks.map((book) => book.updatedAt),
    ];
    expect(new Set(stamps)).toEqual(new Set([BASE_TIME]));
    expect(data.generatedAt).toBe(BASE_TIME);
    const base = Date.parse(BASE_TIME);
    for (const booking of data.bookings) {
      expect(Date.parse(booking.startsAt)).toBeLessThanOrEqual(base);
      expect(Date.parse(booking.endsAt)).toBeGreaterThan(base);
    }
  });

  it("mulberry32 repeats its stream for a seed and stays in [0, 1)", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const first = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(first);
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(990);
  });
});

describe("generateMarketplace contents", () => {
  it("has the default counts and records that satisfy the domain schemas", () => {
    expect(data.regions.length).toBeGreaterThanOrEqual(4);
    expect(data.gpuTypes.length).toBeGreaterThanOrEqual(6);
    expect(data.providers).toHaveLength(50);
    expect(data.gpus).toHaveLength(2000);
    for (const region of data.regions) regionSchema.parse(region);
    for (const type of data.gpuTypes) gpuTypeSchema.parse(type);
    for (const provider of data.providers) providerSchema.parse(provider);
    for (const gpu of data.gpus) gpuSchema.parse(gpu);
    for (const booking of data.bookings) bookingSchema.parse(booking);
    for (const price of data.prices) priceSchema.parse(price);
    for (const book of data.orderBooks) orderBookSchema.parse(book);
    expect(new Set(data.gpus.map((gpu) => gpu.gpuId)).size).toBe(2000);
  });

  it("keeps 25-35% of GPUs busy, each with exactly one confirmed booking at its price", () => {
    const busy = data.gpus.filter((gpu) => gpu.status === "busy");
    expect(busy.length / data.gpus.length).toBeGreaterThanOrEqual(0.25);
    expect(busy.length / data.gpus.length).toBeLessThanOrEqual(0.35);
    const confirmed = data.bookings.filter((booking) => booking.status === "confirmed");
    expect(confirmed).toHaveLength(busy.length);
    const byGpu = new Map(confirmed.map((booking) => [booking.gpuId, booking]));
    for (const gpu of busy) {
      expect(byGpu.get(gpu.gpuId)?.pricePerHour).toBe(gpu.pricePerHour);
    }
    expect(new Set(data.bookings.map((booking) => booking.bookingId)).size).toBe(data.bookings.length);
  });

  it("puts one or two providers in maintenance with all their GPUs, and a few other GPUs out of service", () => {
    const inMaintenance = data.providers.filter((provider) => provider.status === "maintenance");
    expect(inMaintenance.length).toBeGreaterThanOrEqual(1);
    expect(inMaintenance.length).toBeLessThanOrEqual(2);
    const maintenanceIds = new Set(inMaintenance.map((provider) => provider.providerId));
    for (const gpu of data.gpus.filter((g) => maintenanceIds.has(g.providerId))) {
      expect(gpu.status).toBe("maintenance");
    }
    const others = data.gpus.filter((gpu) => !maintenanceIds.has(gpu.providerId));
    expect(others.some((gpu) => gpu.status === "maintenance")).toBe(true);
    expect(others.some((gpu) => gpu.status === "offline")).toBe(true);
    expect(others.filter((gpu) => gpu.status === "available").length).toBeGreaterThan(others.length / 2);
  });

  it("places each provider in one region with its GPUs, and lists exactly its GPUs", () => {
    const gpusByProvider = new Map<string, string[]>();
    for (const gpu of data.gpus) {
      gpusByProvider.set(gpu.providerId, [...(gpusByProvider.get(gpu.providerId) ?? []), gpu.gpuId]);
    }
    const regionIds = new Set(data.regions.map((region) => region.regionId));
    for (const provider of data.providers) {
      expect(regionIds.has(provider.region)).toBe(true);
      expect(provider.gpuIds).toEqual(gpusByProvider.get(provider.providerId));
      for (const gpuId of provider.gpuIds) {
        expect(data.gpus.find((gpu) => gpu.gpuId === gpuId)?.region).toBe(provider.region);
      }
    }
    expect(new Set(data.providers.map((provider) => provider.region))).toEqual(regionIds);
  });

  it("derives memory from the type, prices near the (type, region) price and scores per type", () => {
    const typeMemory = new Map(data.gpuTypes.map((type) => [type.gpuType, type.memoryGb]));
    const listPrice = new Map(
      data.prices.map((price) => [`${price.gpuType}|${price.region}`, price.pricePerHour]),
    );
    for (const gpu of data.gpus) {
      expect(gpu.memoryGb).toBe(typeMemory.get(gpu.gpuType));
      const base = listPrice.get(`${gpu.gpuType}|${gpu.region}`) ?? Number.NaN;
      expect(Math.abs(gpu.pricePerHour - base)).toBeLessThanOrEqual(base * 0.1);
    }
    const meanScore = (type: string) => {
      const scores = data.gpus.filter((gpu) => gpu.gpuType === type).map((gpu) => gpu.performanceScore);
      return scores.reduce((sum, score) => sum + score, 0) / scores.length;
    };
    expect(meanScore("H100-SXM")).toBeGreaterThan(meanScore("A100-80GB"));
    expect(meanScore("A100-80GB")).toBeGreaterThan(meanScore("RTX-3090"));
    for (const type of data.gpuTypes) {
      expect(data.gpus.some((gpu) => gpu.gpuType === type.gpuType)).toBe(true);
    }
  });

  it("has a price and an ordered order book for every (type, region)", () => {
    const pairs = data.gpuTypes.length * data.regions.length;
    expect(data.prices).toHaveLength(pairs);
    expect(data.orderBooks).toHaveLength(pairs);
    for (const book of data.orderBooks) {
      expect(book.bids.length).toBeGreaterThan(0);
      expect(book.asks.length).toBeGreaterThan(0);
      for (let i = 1; i < book.bids.length; i++) {
        expect(book.bids[i]?.pricePerHour).toBeLessThan(book.bids[i - 1]?.pricePerHour ?? 0);
      }
      for (let i = 1; i < book.asks.length; i++) {
        expect(book.asks[i]?.pricePerHour).toBeGreaterThan(book.asks[i - 1]?.pricePerHour ?? 0);
      }
      expect(book.bids[0]?.pricePerHour).toBeLessThan(book.asks[0]?.pricePerHour ?? 0);
    }
  });

  it("honours gpuCount and providerCount and rejects impossible options", () => {
    const small = generateMarketplace({ seed: 1, gpuCount: 30, providerCount: 5 });
    expect(small.gpus).toHaveLength(30);
    expect(small.providers).toHaveLength(5);
    expect(small.providers.every((provider) => provider.gpuIds.length > 0)).toBe(true);
    expect(() => generateMarketplace({ providerCount: 0 })).toThrow(/providerCount/);
    expect(() => generateMarketplace({ gpuCount: 1.5 })).toThrow(/gpuCount/);
    expect(() => generateMarketplace({ seed: -1 })).toThrow(/seed/);
  });
});
