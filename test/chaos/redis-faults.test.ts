/**
 * Redis faults under traffic (test/chaos/scenario.ts): paused, answering errors, slow within
 * and past the hard timeout, and killed and back empty (the data-loss case: E1 acknowledged
 * just before, E2 landing first after). In each: no read answers 5xx (the origin is up and
 * every GPU has a copy), no read takes longer than the timeouts allow, after the repair every
 * acknowledged event shows within the freshness bound (plus the circuit breaker's cool-down in
 * the first seconds), and no acknowledged event is lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import { reportFigures } from "../support/chaos/figures";
import { type ChaosWorld, LATENCY_BOUND_MS, STALENESS_BOUND_MS, startChaosWorld } from "./harness";
import { type FaultScenario, RECOVERY_BOUND_MS, runScenario } from "./scenario";

const worlds: ChaosWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

const PHASES = { beforeMs: 3_000, faultMs: 20_000, afterMs: 12_000 } as const;

const SCENARIOS: readonly FaultScenario[] = [
  {
    name: "redis paused 20 s",
    ...PHASES,
    inject: (w) => w.bridge.redis.pause(),
    repair: (w) => w.bridge.redis.up(),
  },
  {
    name: "redis answering errors (LOADING) 20 s",
    ...PHASES,
    inject: (w) => w.bridge.redis.fail(),
    repair: (w) => w.bridge.redis.up(),
  },
  {
    name: "redis slow, 300 ms a command (within the hard timeout) 20 s",
    ...PHASES,
    inject: (w) => w.bridge.redis.slow(300),
    repair: (w) => w.bridge.redis.up(),
  },
  {
    name: "redis slow, 1.5 s a command (past the hard timeout) 20 s",
    ...PHASES,
    inject: (w) => w.bridge.redis.slow(1_500),
    repair: (w) => w.bridge.redis.up(),
  },
  {
    name: "redis killed 20 s, back empty, E2 lands first",
    ...PHASES,
    // E1 for the first GPU is acknowledged, and Redis goes before any read could sync it.
    beforeFault: async (w) => {
      const e1 = await w.time.run(w.change(w.gpuIds[0] as string).delivered);
      if (!e1.ok) throw e1.error;
    },
    inject: (w) => w.bridge.redis.kill(),
    repair: (w) => w.bridge.redis.restart(),
    afterRepair: async (w) => {
      const e2 = await w.time.run(w.change(w.gpuIds[1] as string).delivered);
      if (!e2.ok) throw e2.error;
    },
  },
];

describe("Redis faults under traffic", () => {
  it.for(SCENARIOS)("$name", { timeout: 60_000 }, async (scenario) => {
    const world = await startChaosWorld(scenario.name.split(" ").slice(0, 2).join("-"));
    worlds.push(world);
    const run = await runScenario(world, scenario);
    reportFigures(run.figures);

    expect(run.figures.reads.count).toBeGreaterThan(300);
    expect(run.figures.reads.fiveXx).toBe(0);
    expect(run.figures.reads.maxLatencyMs).toBeLessThanOrEqual(LATENCY_BOUND_MS);
    expect(run.figures.reads.stalenessAfterRecoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    expect(run.steadyStalenessMs).toBeLessThanOrEqual(STALENESS_BOUND_MS);
    expect(run.figures.eventsAcknowledged).toBeGreaterThanOrEqual(35);
    expect(run.figures.eventsLost).toBe(0);
    // The reader kept going through the fault.
    expect(
      run.reads.filter((read) => read.at >= run.faultAt && read.at < run.repairedAt).length,
    ).toBeGreaterThan(100);
    if (scenario.name.includes("killed")) expect(world.cache.stats.logResets).toBe(1);
    else expect(world.cache.stats.logResets).toBe(0);
  });
});
