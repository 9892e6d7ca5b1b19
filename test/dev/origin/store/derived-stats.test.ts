/** Market stats derived from GPU records alone (dev/origin/store/derived-stats.ts). */
import { describe, expect, it } from "vitest";
import type { Gpu } from "../../../../core/domain";
import { computeStats } from "../../../../dev/origin/store/derived-stats";

const gpu = (gpuId: string, status: Gpu["status"], pricePerHour: number, region = "eu-west"): Gpu => ({
  gpuId,
  providerId: "p-1",
  gpuType: "a100",
  region,
  status,
  pricePerHour,
  performanceScore: 100,
  memoryGb: 80,
  version: 1,
  updatedAt: "2026-11-05T12:00:00.000Z",
});

describe("computeStats", () => {
  it("counts only the pair's GPUs; utilisation is busy over rentable, so out-of-service GPUs do not dilute it", () => {
    const stats = computeStats(
      [
        gpu("g1", "available", 2),
        gpu("g2", "busy", 3),
        gpu("g3", "maintenance", 1),
        gpu("g4", "offline", 1),
        gpu("g5", "available", 9, "us-east"),
      ],
      "eu-west",
      "a100",
    );
    expect(stats).toEqual({
      region: "eu-west",
      gpuType: "a100",
      totalCount: 4,
      availableCount: 1,
      busyCount: 1,
      utilisation: 0.5,
      averagePricePerHour: 2,
      minPricePerHour: 2,
    });
  });

  it("averages available prices without float drift, and has no prices when nothing is available", () => {
    const tenAt55 = Array.from({ length: 10 }, (_, i) => gpu(`g${i}`, "available", 0.55));
    expect(computeStats(tenAt55, "eu-west", "a100").averagePricePerHour).toBe(0.55);
    expect(computeStats([gpu("g1", "busy", 1)], "eu-west", "a100")).toMatchObject({
      utilisation: 1,
      averagePricePerHour: null,
      minPricePerHour: null,
    });
    expect(computeStats([], "eu-west", "a100")).toMatchObject({ totalCount: 0, utilisation: 0 });
  });
});
