/** The figures per class and the booking visibility, over synthetic timelines and reads. */
import { describe, expect, it } from "vitest";
import type { FreshnessRead } from "../../../dev/freshness/readers";
import { classFreshness, percentiles, summariseFreshness, visibility } from "../../../dev/freshness/summary";
import { AckTimeline } from "../../../dev/freshness/timeline";
import type { WriterDelivery } from "../../../dev/freshness/writer";

function read(overrides: Partial<FreshnessRead> & Pick<FreshnessRead, "sentAt" | "shown">): FreshnessRead {
  return {
    path: "/v1/gpus/a",
    kind: "record",
    dataClass: "gpu",
    answeredAt: overrides.sentAt + 5,
    status: 200,
    cfCacheStatus: "HIT",
    xCache: "L1",
    ...overrides,
  };
}

const booking = (version: number, ackedAt: number): WriterDelivery => ({
  type: "booking.created",
  key: "gpu:a",
  version,
  sentAt: ackedAt - 20,
  ackedAt,
  events: 2,
});

describe("percentiles", () => {
  it("takes nearest-rank samples", () => {
    const samples = Array.from({ length: 200 }, (_, index) => 200 - index);
    expect(percentiles(samples)).toEqual({ count: 200, p50: 100, p99: 198, max: 200 });
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});

describe("classFreshness", () => {
  // gpu:a: v2 acknowledged at 1,000, v3 at 4,000.
  const timeline = new AckTimeline();
  timeline.record("gpu:a", 2, 1_000);
  timeline.record("gpu:a", 3, 4_000);
  const reads = [
    read({ sentAt: 900, shown: [{ key: "gpu:a", version: 1 }] }), // before the 202: age 0
    read({ sentAt: 1_500, shown: [{ key: "gpu:a", version: 1 }], cfCacheStatus: "HIT", xCache: "L2" }), // 500
    read({
      sentAt: 2_600,
      shown: [{ key: "gpu:a", version: 1 }],
      cfCacheStatus: "EXPIRED",
      xCache: "ORIGIN",
    }), // 1,600
    read({ sentAt: 3_100, shown: [{ key: "gpu:a", version: 1 }], cfCacheStatus: "MISS", xCache: "L1" }), // 2,100
    read({ sentAt: 3_200, shown: [{ key: "gpu:a", version: 2 }], cfCacheStatus: "STALE", xCache: "L1" }), // 0
    read({ sentAt: 4_100, shown: [], status: 503, error: "status 503", cfCacheStatus: null, xCache: null }),
    read({ sentAt: 4_200, shown: [{ key: "price:t:r", version: 1 }], dataClass: "pricing", kind: "price" }),
  ];

  it("counts reads, failures, stale reads and reads beyond the bound, with the age percentiles", () => {
    const gpu = classFreshness("gpu", reads, timeline, 2_000);
    expect(gpu).toMatchObject({
      dataClass: "gpu",
      boundMs: 2_000,
      reads: 5,
      errors: 1,
      staleReads: 3,
      beyondBound: 1,
      ageMs: { count: 5, p50: 500, p99: 2_100, max: 2_100 },
    });
    // At the bound is within it.
    expect(classFreshness("gpu", reads, timeline, 2_100).beyondBound).toBe(0);
    expect(classFreshness("gpu", reads, timeline, 499).beyondBound).toBe(3);
  });

  it("shares the front statuses over every judged read and X-Cache over the reads the Worker answered", () => {
    const gpu = classFreshness("gpu", reads, timeline, 2_000);
    expect(gpu.frontStatus).toEqual({ EXPIRED: 0.2, HIT: 0.4, MISS: 0.2, STALE: 0.2 });
    // A front HIT or STALE replays its copy's X-Cache: only EXPIRED and MISS reached the Worker.
    expect(gpu.workerAnswered).toBe(2);
    expect(gpu.workerTier).toEqual({ L1: 0.5, ORIGIN: 0.5 });
    const noFront = classFreshness(
      "gpu",
      [read({ sentAt: 1, shown: [], cfCacheStatus: null, xCache: "L1" })],
      timeline,
      2_000,
    );
    expect(noFront.frontStatus).toEqual({ none: 1 });
    expect(noFront.workerTier).toEqual({ L1: 1 });
  });
});

describe("visibility", () => {
  const reads = [
    read({ sentAt: 1_100, shown: [{ key: "gpu:a", version: 1 }] }),
    read({ sentAt: 1_400, shown: [{ key: "gpu:a", version: 2 }] }),
    // A listing showing a newer version than the booking's also shows the booking.
    read({ sentAt: 1_200, kind: "listing", shown: [{ key: "gpu:a", version: 3 }] }),
    read({ sentAt: 6_000, shown: [{ key: "gpu:a", version: 4 }] }),
  ];

  it("times each change to the first read sent after its 202 that showed it", () => {
    const record = visibility([booking(2, 1_000)], reads, "record", 2_000, 6_000);
    expect(record).toEqual({
      changes: 1,
      shownWithinBound: 1,
      shownAfterMs: { count: 1, p50: 400, p99: 400, max: 400 },
    });
    expect(visibility([booking(2, 1_000)], reads, "listing", 2_000, 6_000).shownAfterMs.max).toBe(200);
  });

  it("counts a change shown late, or never, as not within the bound, and leaves out changes too close to the end", () => {
    // v4 first shows 4,000 ms after its 202.
    const late = visibility([booking(4, 2_000)], reads, "record", 2_000, 6_000);
    expect(late).toMatchObject({ changes: 1, shownWithinBound: 0 });
    expect(late.shownAfterMs.max).toBe(4_000);
    const never = visibility([booking(5, 2_000)], reads, "record", 2_000, 6_000);
    expect(never).toMatchObject({ changes: 1, shownWithinBound: 0, shownAfterMs: { count: 0 } });
    expect(visibility([booking(5, 4_500)], reads, "record", 2_000, 6_000).changes).toBe(0);
  });
});

describe("summariseFreshness", () => {
  it("reports the classes read, in policy order, and the bookings on records and listings", () => {
    const timeline = new AckTimeline();
    timeline.record("gpu:a", 2, 1_000);
    const summary = summariseFreshness({
      reads: [
        read({ sentAt: 1_500, shown: [{ key: "gpu:a", version: 2 }] }),
        read({
          sentAt: 1_600,
          shown: [{ key: "gpu:a", version: 1 }],
          kind: "listing",
          dataClass: "availability",
        }),
      ],
      timeline,
      bounds: {
        availability: 50,
        pricing: 1,
        gpu: 2_000,
        provider: 1,
        "market-stats": 1,
        "order-book": 1,
        reference: 1,
      },
      deliveries: [booking(2, 1_000), { ...booking(3, 1_100), type: "booking.cancelled" }],
      readsEnd: 3_100,
    });
    expect(summary.classes.map((item) => [item.dataClass, item.beyondBound])).toEqual([
      ["availability", 1],
      ["gpu", 0],
    ]);
    // Only the booking counts, not the cancellation: the record showed it within 500 ms, the listing never.
    expect(summary.bookings.record).toMatchObject({ changes: 1, shownWithinBound: 1 });
    expect(summary.bookings.listing).toMatchObject({ changes: 1, shownWithinBound: 0 });
  });
});
