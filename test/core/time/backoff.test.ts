/** The one exponential back-off, in both of the shapes the project uses. */
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../core/time/backoff";

describe("backoffDelay without jitter (the purge-retry visibility back-off, seconds)", () => {
  const policy = { base: 30, max: 900 };

  it("doubles from the base on each failure and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, policy))).toEqual([
      30, 60, 120, 240, 480, 900, 900,
    ]);
  });

  it("treats a count below 1 or not a whole number as the first failure", () => {
    for (const attempt of [0, -3, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(backoffDelay(attempt, policy), String(attempt)).toBe(30);
  });

  it("stays at the cap (never Infinity or NaN) for a count in the hundreds or thousands", () => {
    expect(backoffDelay(500, policy)).toBe(900);
    expect(backoffDelay(5_000, policy)).toBe(900);
    expect(backoffDelay(5_000, { base: 0, max: 900 })).toBe(0);
  });

  it("keeps a fractional base exact", () => {
    expect(backoffDelay(3, { base: 1.5, max: 100 })).toBe(6);
  });
});

describe("backoffDelay with equal jitter (the CloudFront batcher, milliseconds)", () => {
  const policy = (random: number) => ({ base: 1_000, max: 20_000, jitter: () => random });

  it("waits between half and all of min(max, base · 2ⁿ⁻¹)", () => {
    expect(backoffDelay(1, policy(0))).toBe(500);
    expect(backoffDelay(1, policy(1 - Number.EPSILON))).toBe(1_000);
    expect(backoffDelay(3, policy(0.999999))).toBe(4_000);
    expect(backoffDelay(10, policy(0.5))).toBe(15_000);
    expect(backoffDelay(10, policy(0))).toBe(10_000);
  });

  it("rounds to a whole unit", () => {
    expect(backoffDelay(1, { base: 3, max: 100, jitter: () => 0.5 })).toBe(2);
  });

  it("asks the injected source once per delay", () => {
    let calls = 0;
    backoffDelay(2, {
      base: 10,
      max: 100,
      jitter: () => {
        calls++;
        return 0.25;
      },
    });
    expect(calls).toBe(1);
  });
});
