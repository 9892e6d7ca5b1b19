/** The comparator's core: a read's age against what had been acknowledged before it was sent. */
import { describe, expect, it } from "vitest";
import { AckTimeline } from "../../../dev/freshness/timeline";

describe("AckTimeline", () => {
  // gpu:a went v1 → v2 (acked at 1,000) → v3 (acked at 1,600).
  const timeline = new AckTimeline();
  timeline.record("gpu:a", 2, 1_000);
  timeline.record("gpu:a", 3, 1_600);

  it("gives a read that misses nothing acknowledged an age of 0", () => {
    expect(timeline.ageOf("gpu:a", 3, 5_000)).toBe(0);
    // v2 was sent to the event app but not yet answered when this read left.
    expect(timeline.ageOf("gpu:a", 1, 1_000)).toBe(0);
    expect(timeline.ageOf("gpu:a", 1, 999)).toBe(0);
    // An entity the writer never changed.
    expect(timeline.ageOf("gpu:b", 1, 9_000)).toBe(0);
  });

  it("ages a read by the oldest acknowledged version it misses", () => {
    expect(timeline.ageOf("gpu:a", 1, 1_200)).toBe(200);
    // Missing v2 and v3: v2's acknowledgement decides.
    expect(timeline.ageOf("gpu:a", 1, 2_000)).toBe(1_000);
    // Showing v2, missing only v3.
    expect(timeline.ageOf("gpu:a", 2, 2_000)).toBe(400);
    // Showing a version newer than any acknowledged (its 202 is still on the way).
    expect(timeline.ageOf("gpu:a", 4, 2_000)).toBe(0);
  });

  it("keeps a version's first acknowledgement, and takes the oldest missed whatever the order recorded", () => {
    const shuffled = new AckTimeline();
    shuffled.record("price:t:r", 5, 3_000);
    shuffled.record("price:t:r", 4, 2_000);
    shuffled.record("price:t:r", 4, 2_500);
    expect(shuffled.versions("price:t:r")).toEqual([
      { version: 5, ackedAt: 3_000 },
      { version: 4, ackedAt: 2_000 },
    ]);
    expect(shuffled.ageOf("price:t:r", 3, 3_500)).toBe(1_500);
  });

  it("ages a listing by the stalest GPU in it", () => {
    const listing = new AckTimeline();
    listing.record("gpu:a", 2, 1_000);
    listing.record("gpu:b", 7, 1_800);
    const read = [
      { key: "gpu:a", version: 1 },
      { key: "gpu:b", version: 7 },
      { key: "gpu:c", version: 1 },
    ];
    expect(listing.readAge(read, 2_000)).toBe(1_000);
    expect(listing.readAge([{ key: "gpu:b", version: 6 }], 2_000)).toBe(200);
    expect(listing.readAge([], 2_000)).toBe(0);
  });
});
