/**
 * The one guard around every Redis call (core/cache/l2-guard.ts): the breaker opens after
 * the threshold and then nothing is sent or counted; one probe per cool-down; a timeout is
 * an error that is counted but not logged. Manual clock and timers.
 */
import { describe, expect, it } from "vitest";
import { L2Guard } from "../../../core/cache/l2-guard";
import { TimeoutError } from "../../../core/time/clock";
import { ManualTimers, settlePromises } from "../../support/manual-timers";

const HARD_TIMEOUT_MS = 50;
const BREAKER = { failureThreshold: 3, cooldownMs: 5_000 };

function createGuard() {
  const timers = new ManualTimers();
  const counters = { redisCommands: 0, redisErrors: 0 };
  const logged: unknown[][] = [];
  const guard = new L2Guard({
    clock: timers.clock,
    timers,
    logger: { warn: (...args: unknown[]) => logged.push(args) },
    hardTimeoutMs: HARD_TIMEOUT_MS,
    breaker: BREAKER,
    counters,
  });
  let sent = 0;
  const failing = () => {
    sent += 1;
    return Promise.reject(new Error("connection reset"));
  };
  const answering = () => {
    sent += 1;
    return Promise.resolve("OK");
  };
  return { guard, timers, counters, logged, failing, answering, sent: () => sent };
}

describe("L2Guard", () => {
  it("settles with the value, counts the command and keeps the circuit closed", async () => {
    const g = createGuard();
    const call = g.guard.tryCall("Redis read", g.answering);
    expect(call).toBeDefined();
    expect(await call).toEqual({ ok: true, value: "OK" });
    expect(g.counters).toEqual({ redisCommands: 1, redisErrors: 0 });
    expect(g.guard.circuit).toBe("closed");
    // The timeout timer does not outlive the answer.
    expect(g.timers.pendingCount).toBe(0);
  });

  it("opens after the threshold of failures; while open nothing is sent, counted or logged", async () => {
    const g = createGuard();
    for (let failure = 1; failure <= BREAKER.failureThreshold; failure++) {
      const outcome = await g.guard.tryCall("Redis read", g.failing);
      expect(outcome).toMatchObject({ ok: false, error: { message: "connection reset" } });
      expect(g.guard.circuit).toBe(failure < BREAKER.failureThreshold ? "closed" : "open");
    }
    expect(g.counters).toEqual({ redisCommands: 3, redisErrors: 3 });
    expect(g.logged.map(([message]) => message)).toEqual(Array(3).fill("Redis call failed"));

    g.timers.clock.advance(BREAKER.cooldownMs - 1);
    expect(g.guard.tryCall("Redis read", g.answering)).toBeUndefined();
    expect(g.guard.tryCall("Redis fill", g.answering)).toBeUndefined();
    expect(g.sent()).toBe(3);
    expect(g.counters).toEqual({ redisCommands: 3, redisErrors: 3 });
    expect(g.logged).toHaveLength(3);
  });

  it("lets exactly one probe out after the cool-down; its success closes the circuit", async () => {
    const g = createGuard();
    for (let failure = 0; failure < BREAKER.failureThreshold; failure++) {
      await g.guard.tryCall("Redis read", g.failing);
    }
    g.timers.clock.advance(BREAKER.cooldownMs);
    expect(g.guard.circuit).toBe("half-open");
    const probe = g.guard.tryCall("invalidation log read", g.answering);
    expect(probe).toBeDefined();
    // While the probe is out, no other call goes.
    expect(g.guard.tryCall("Redis read", g.answering)).toBeUndefined();
    expect(await probe).toEqual({ ok: true, value: "OK" });
    expect(g.guard.circuit).toBe("closed");
    expect(g.guard.tryCall("Redis read", g.answering)).toBeDefined();
    expect(g.counters.redisCommands).toBe(5);
  });

  it("a failed probe opens the circuit again at once", async () => {
    const g = createGuard();
    for (let failure = 0; failure < BREAKER.failureThreshold; failure++) {
      await g.guard.tryCall("Redis read", g.failing);
    }
    g.timers.clock.advance(BREAKER.cooldownMs);
    expect(await g.guard.tryCall("Redis read", g.failing)).toMatchObject({ ok: false });
    expect(g.guard.circuit).toBe("open");
    expect(g.guard.tryCall("Redis read", g.answering)).toBeUndefined();
  });

  it("counts a timeout as an error and does not log it", async () => {
    const g = createGuard();
    let settled: unknown;
    const call = g.guard.tryCall("Redis read", () => new Promise<string>(() => {}));
    void call?.then((outcome) => {
      settled = outcome;
    });
    g.timers.advance(HARD_TIMEOUT_MS - 1);
    await settlePromises();
    expect(settled).toBeUndefined();

    g.timers.advance(1);
    await settlePromises();
    expect(settled).toMatchObject({ ok: false });
    const error = (settled as { error: unknown }).error;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(String(error)).toMatch(/Redis read took longer than 50 ms/);
    expect(g.counters).toEqual({ redisCommands: 1, redisErrors: 1 });
    expect(g.logged).toEqual([]);
  });

  it("treats a store that throws before returning a promise like one that rejects", async () => {
    const g = createGuard();
    const outcome = await g.guard.tryCall<string>("Redis fill", () => {
      throw new Error("bad arguments");
    });
    expect(outcome).toMatchObject({ ok: false, error: { message: "bad arguments" } });
    expect(g.counters).toEqual({ redisCommands: 1, redisErrors: 1 });
    expect(g.logged).toHaveLength(1);
  });
});
