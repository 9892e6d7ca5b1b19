/** The circuit breaker's state machine (core/cache/circuit-breaker.ts) on the manual clock. */
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../core/cache/circuit-breaker";
import { ManualClock } from "../../support/manual-clock";

function breaker(failureThreshold = 3, cooldownMs = 1_000) {
  const clock = new ManualClock();
  return { clock, breaker: new CircuitBreaker(clock, { failureThreshold, cooldownMs }) };
}

describe("CircuitBreaker", () => {
  it("stays closed below the threshold and opens at it", () => {
    const { breaker: b } = breaker(3);
    expect(b.state).toBe("closed");
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
  });

  it("counts consecutive failures only: a success resets the count", () => {
    const { breaker: b } = breaker(3);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    b.failure();
    expect(b.state).toBe("open");
  });

  it("half-opens after the cool-down and lets exactly one probe through", () => {
    const { clock, breaker: b } = breaker(1, 1_000);
    b.failure();
    clock.advance(999);
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
    clock.advance(1);
    expect(b.state).toBe("half-open");
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    expect(b.allow()).toBe(false);
  });

  it("closes when the probe succeeds", () => {
    const { clock, breaker: b } = breaker(2, 1_000);
    b.failure();
    b.failure();
    clock.advance(1_000);
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe("closed");
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(true);
    b.failure(); // the count started again
    expect(b.state).toBe("closed");
  });

  it("re-opens for a full cool-down when the probe fails", () => {
    const { clock, breaker: b } = breaker(5, 1_000);
    for (let index = 0; index < 5; index++) b.failure();
    clock.advance(1_500);
    expect(b.allow()).toBe(true);
    b.failure(); // one failure in half-open is enough
    expect(b.state).toBe("open");
    clock.advance(999);
    expect(b.allow()).toBe(false);
    clock.advance(1);
    expect(b.allow()).toBe(true);
  });

  it("holds every other call while the probe is out, however long it takes", () => {
    const { clock, breaker: b } = breaker(1, 1_000);
    b.failure();
    clock.advance(1_000);
    expect(b.allow()).toBe(true);
    clock.advance(60_000);
    expect(b.allow()).toBe(false);
    expect(b.state).toBe("half-open");
  });
});
