/** The writer's plan, the versions an event carries, the choice of targets and what each read shows. */
import { describe, expect, it } from "vitest";
import {
  gpuRecordTarget,
  listingTarget,
  priceTarget,
  UnexpectedBodyError,
} from "../../../dev/freshness/read-targets";
import { pickTargets, readTargetsFor } from "../../../dev/freshness/targets";
import { versionsCarried, writerCycle } from "../../../dev/freshness/writer";
import { marketplaceEvent } from "../../../dev/local/marketplace-events";

const gpu = (gpuId: string, version: number, region = "us-east", gpuType = "H100") => ({
  gpuId,
  region,
  gpuType,
  version,
});

describe("writerCycle", () => {
  it("books every GPU, changes each price, cancels every booking, changes each price back", () => {
    const pair = { gpuType: "H100", region: "us-east", pricePerHour: 2.5 };
    expect(writerCycle(["a", "b"], [pair])).toEqual([
      { kind: "book", gpuId: "a" },
      { kind: "book", gpuId: "b" },
      { kind: "price", pair, raised: true },
      { kind: "cancel", gpuId: "a" },
      { kind: "cancel", gpuId: "b" },
      { kind: "price", pair, raised: false },
    ]);
  });
});

describe("versionsCarried", () => {
  it("names the GPU of a booking and every GPU and the price of a price change, as the reads key them", () => {
    expect(
      versionsCarried(marketplaceEvent("booking.created", 4, { booking: {}, gpu: gpu("a", 4) })),
    ).toEqual([{ key: "gpu:a", version: 4 }]);
    const price = { gpuType: "H100", region: "us-east", pricePerHour: 2.51, version: 9 };
    expect(
      versionsCarried(marketplaceEvent("pricing.updated", 9, { price, gpus: [gpu("a", 5), gpu("b", 2)] })),
    ).toEqual([
      { key: "gpu:a", version: 5 },
      { key: "gpu:b", version: 2 },
      { key: "price:H100:us-east", version: 9 },
    ]);
    expect(versionsCarried(marketplaceEvent("market.stats_updated", 3, { stats: {} }))).toEqual([]);
  });
});

describe("pickTargets", () => {
  it("takes the first pairs by name with enough available GPUs, and their first GPUs by id", () => {
    const available = [
      gpu("g9", 1, "us-west", "A100"),
      gpu("g3", 1, "eu-west", "H100"),
      gpu("g1", 1, "eu-west", "H100"),
      gpu("g2", 1, "eu-west", "H100"),
      gpu("g4", 1, "ap-south", "A100"),
      gpu("g7", 1, "us-west", "A100"),
    ];
    expect(pickTargets(available, 2, 2)).toEqual([
      { region: "eu-west", gpuType: "H100", gpuIds: ["g1", "g2"] },
      { region: "us-west", gpuType: "A100", gpuIds: ["g7", "g9"] },
    ]);
    expect(() => pickTargets(available, 3, 2)).toThrow(/only 2 pairs/);
  });

  it("reads every GPU's record, every pair's listing and its price", () => {
    const targets = readTargetsFor({
      gpuIds: ["g1", "g2"],
      pairs: [{ gpuType: "H100", region: "eu-west", pricePerHour: 2 }],
    });
    expect(targets.map((target) => [target.path, target.dataClass])).toEqual([
      ["/v1/gpus/g1", "gpu"],
      ["/v1/gpus/g2", "gpu"],
      ["/v1/gpus?region=eu-west&type=H100&limit=500", "availability"],
      ["/v1/pricing?type=H100&region=eu-west", "pricing"],
    ]);
  });
});

describe("read targets", () => {
  it("read the versions an answer shows", () => {
    expect(gpuRecordTarget("g1").shown(gpu("g1", 3))).toEqual([{ key: "gpu:g1", version: 3 }]);
    expect(listingTarget("us-east", "H100").shown({ items: [gpu("g1", 3), gpu("g2", 1)], total: 2 })).toEqual(
      [
        { key: "gpu:g1", version: 3 },
        { key: "gpu:g2", version: 1 },
      ],
    );
    expect(
      priceTarget("H100", "us-east").shown({
        gpuType: "H100",
        region: "us-east",
        pricePerHour: 2,
        version: 7,
      }),
    ).toEqual([{ key: "price:H100:us-east", version: 7 }]);
  });

  it("refuse answers that could hide a missed version: another record, a cut listing, no version", () => {
    expect(() => gpuRecordTarget("g1").shown(gpu("g2", 3))).toThrow(UnexpectedBodyError);
    expect(() => gpuRecordTarget("g1").shown({ gpuId: "g1" })).toThrow(/no integer version/);
    const listing = listingTarget("us-east", "H100");
    expect(() => listing.shown({ items: [gpu("g1", 3)], total: 2 })).toThrow(/2 GPUs, only 1 listed/);
    expect(() => listing.shown({ items: [gpu("g1", 3, "eu-west")], total: 1 })).toThrow(/another region/);
    expect(() => priceTarget("H100", "us-east").shown({ gpuType: "A100", region: "us-east" })).toThrow(
      UnexpectedBodyError,
    );
  });
});
