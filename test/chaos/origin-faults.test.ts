/**
 * Origin faults under traffic (test/chaos/scenario.ts), with every other read a region's
 * listing: events drop listings from Redis, so those refill from the origin, and while it fails
 * the isolate's invalidated copy answers (stale-if-error). The origin down, slow past its
 * timeout, or answering 503; and the origin down while Redis is down too, where only L1's copies
 * are left. In each: no read answers 5xx while a usable copy exists, no read takes longer than
 * the timeouts allow, GPUs (written through by events) stay fresh, and after the repair every
 * acknowledged event shows within the bound.
 */
import { afterEach, describe, expect, it } from "vitest";
import { reportFigures } from "../support/chaos/figures";
import { type ChaosWorld, LATENCY_BOUND_MS, STALENESS_BOUND_MS, startChaosWorld } from "./harness";
import { type FaultScenario, RECOVERY_BOUND_MS, runScenario } from "./scenario";

const worlds: ChaosWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

/** Shorter than a listing's usable life (availability: 30 s in L1 plus 60 s stale-if-error). */
const PHASES = { beforeMs: 3_000, faultMs: 40_000, afterMs: 12_000, listings: true } as const;

const SCENARIOS: ReadonlyArray<FaultScenario & { readonly redisUp: boolean }> = [
  {
    name: "origin down 40 s",
    ...PHASES,
    redisUp: true,
    inject: (w) => w.origin.down(),
    repair: (w) => w.origin.up(),
  },
  {
    name: "origin slow, 8 s an answer (past its 5 s timeout) 40 s",
    ...PHASES,
    redisUp: true,
    inject: (w) => w.origin.slow(8_000),
    repair: (w) => w.origin.up(),
  },
  {
    name: "origin answering 503 40 s",
    ...PHASES,
    redisUp: true,
    inject: (w) => w.origin.answer(503),
    repair: (w) => w.origin.up(),
  },
  {
    name: "origin down and redis down 40 s (L1 copies only)",
    ...PHASES,
    redisUp: false,
    inject: (w) => {
      w.origin.down();
      w.bridge.redis.kill();
    },
    repair: async (w) => {
      await w.bridge.redis.restart({ empty: false });
      w.origin.up();
    },
  },
];

describe("origin faults under traffic", () => {
  it.for(SCENARIOS)("$name", { timeout: 60_000 }, async (scenario) => {
    const world = await startChaosWorld(scenario.name.split(" ").slice(0, 3).join("-"));
    worlds.push(world);
    const run = await runScenario(world, scenario);
    reportFigures(run.figures);

    expect(run.figures.reads.count).toBeGreaterThan(500);
    expect(run.figures.reads.fiveXx).toBe(0);
    expect(run.figures.reads.maxLatencyMs).toBeLessThanOrEqual(LATENCY_BOUND_MS);
    expect(run.figures.reads.stalenessAfterRecoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    expect(run.steadyStalenessMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
    expect(run.figures.eventsLost).toBe(0);
    const during = run.reads.filter((read) => read.at >= run.faultAt && read.at < run.repairedAt);
    // Listings fell back to their copies while the origin failed: the fault was felt.
    expect(during.filter((read) => read.staleReason === "error").length).toBeGreaterThan(0);
    if (scenario.redisUp) {
      // With Redis up, events reach the GPUs through their written-through records all along.
      expect(run.figures.reads.stalenessDuringFaultMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
    }
    // After the repair, listings are no longer answered from a copy kept for errors.
    const listingsAfter = run.reads.filter(
      (read) => read.gpuId.startsWith("listing:") && read.at >= run.repairedAt + RECOVERY_BOUND_MS,
    );
    expect(listingsAfter.length).toBeGreaterThan(0);
    expect(listingsAfter.filter((read) => read.status !== 200 || read.staleReason === "error")).toEqual([]);
    expect(listingsAfter.some((read) => read.source === "ORIGIN")).toBe(true);
  });
});
