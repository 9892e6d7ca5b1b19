/**
 * A fault scenario on one isolate's engine (test/chaos/harness.ts), on virtual time: every GPU
 * is cached, then a reader asks for one GPU after another every READ_EVERY_MS while the
 * marketplace changes one GPU every EVENT_EVERY_MS, all but the first (each change delivered
 * until acknowledged);
 * the fault starts, lasts, and is repaired; the run goes on a while; at the end every GPU is
 * read once more against what had been acknowledged. The figures (test/support/chaos/figures.ts)
 * are what the assertions check.
 */
import type { ReadFigures, ScenarioFigures } from "../support/chaos/figures";
import {
  type ChaosWorld,
  LATENCY_BOUND_MS,
  type ReadRecord,
  STALENESS_BOUND_MS,
  staleness,
  WORKER_DEFAULTS,
} from "./harness";

const READ_EVERY_MS = 100;
const EVENT_EVERY_MS = 1_000;

/**
 * After an outage the engine's circuit breaker may still be open: Redis is not asked again until
 * its cool-down has passed (core/cache/l2-guard.ts, 5 s by default, as the Worker runs it), so the
 * first events after the repair may wait that long on top of the freshness bound.
 */
export const BREAKER_COOLDOWN_MS = 5_000;
export const RECOVERY_BOUND_MS = BREAKER_COOLDOWN_MS + STALENESS_BOUND_MS;

export interface FaultScenario {
  readonly name: string;
  /** Virtual ms of traffic before the fault, of the fault, and after the repair. */
  readonly beforeMs: number;
  readonly faultMs: number;
  readonly afterMs: number;
  /** Just before the fault starts (the data-loss case acknowledges E1 here, and no read follows). */
  readonly beforeFault?: (world: ChaosWorld) => Promise<void>;
  readonly inject: (world: ChaosWorld) => void | Promise<void>;
  readonly repair: (world: ChaosWorld) => void | Promise<void>;
  /** Right after the repair, before any read (the data-loss case lands E2 here). */
  readonly afterRepair?: (world: ChaosWorld) => Promise<void>;
  /** Every other read is a region's listing (an aggregate, refilled from the origin after each event). */
  readonly listings?: boolean;
}

export interface ScenarioRun {
  readonly figures: ScenarioFigures & { readonly reads: ReadFigures };
  readonly faultAt: number;
  readonly repairedAt: number;
  readonly reads: readonly ReadRecord[];
  /** Reads later than RECOVERY_BOUND_MS after the repair: held to the plain freshness bound. */
  readonly steadyStalenessMs: number;
}

export async function runScenario(world: ChaosWorld, scenario: FaultScenario): Promise<ScenarioRun> {
  const { time, gpuIds, regions } = world;
  for (const gpuId of gpuIds) await world.read(gpuId);
  if (scenario.listings) for (const region of regions) await world.readListing(region);
  await world.settle();
  const first = world.reads.length;

  const start = time.now();
  const faultAt = start + scenario.beforeMs;
  const repairAt = faultAt + scenario.faultMs;
  const end = repairAt + scenario.afterMs;
  let faulted = false;
  let repairedAt = Number.POSITIVE_INFINITY;
  let nextEvent = start;
  let reads = 0;
  let changes = 0;
  for (let at = start; at < end; at += READ_EVERY_MS) {
    await time.advanceTo(at);
    if (!faulted && time.now() >= faultAt) {
      faulted = true;
      await scenario.beforeFault?.(world);
      await scenario.inject(world);
    }
    if (faulted && repairedAt === Number.POSITIVE_INFINITY && time.now() >= repairAt) {
      await scenario.repair(world);
      repairedAt = time.now();
      await scenario.afterRepair?.(world);
    }
    if (time.now() >= nextEvent) {
      // The first GPU is left to `beforeFault` (E1): only the sync can bring its change to L1.
      world.change(gpuIds[1 + (changes % (gpuIds.length - 1))] as string);
      changes += 1;
      nextEvent += EVENT_EVERY_MS;
    }
    if (scenario.listings && reads % 2 === 1)
      await world.readListing(regions[reads % regions.length] as string);
    else await world.read(gpuIds[reads % gpuIds.length] as string);
    reads += 1;
  }

  // Every delivery acknowledged and every background fill done; then each GPU once more.
  await world.settle();
  await time.advance(WORKER_DEFAULTS.syncIntervalMs);
  const finals = new Map<string, number | undefined>();
  for (const gpuId of gpuIds) finals.set(gpuId, (await world.read(gpuId)).version);
  const lost = world.acknowledged.filter((ack) => (finals.get(ack.gpuId) ?? -1) < ack.version);

  const measured = world.reads.slice(first);
  const { fiveXx, withoutCopy } = countFiveXx(world.reads, first);
  const after = measured.filter((read) => read.at >= repairedAt);
  const during = measured.filter((read) => read.at >= faultAt && read.at < repairedAt);
  const steady = measured.filter((read) => read.at >= repairedAt + RECOVERY_BOUND_MS);
  const worst = (list: readonly ReadRecord[], since = 0) =>
    Math.max(0, ...list.map((read) => staleness(read, world.acknowledged, since)));
  return {
    faultAt,
    repairedAt,
    reads: measured,
    steadyStalenessMs: worst(steady),
    figures: {
      scenario: scenario.name,
      reads: {
        count: measured.length,
        fiveXx,
        maxLatencyMs: Math.max(0, ...measured.map((read) => read.ms)),
        latencyBoundMs: LATENCY_BOUND_MS,
        stalenessAfterRecoveryMs: worst(after, repairedAt),
        stalenessBoundMs: RECOVERY_BOUND_MS,
        stalenessDuringFaultMs: worst(during),
      },
      eventsAcknowledged: world.acknowledged.length,
      eventsLost: lost.length,
      notes: {
        "steady staleness ms": worst(steady),
        "log resets": world.cache.stats.logResets,
        "stale answers": measured.filter((read) => read.source === "STALE").length,
        "5xx with no usable copy": withoutCopy,
      },
    },
  };
}

/**
 * 5xx answers from `first` on, split by whether the key had a usable copy: a fresh answer (not
 * a stale one) younger than its class's l1MaxMs + staleIfErrorMs, which the engine may serve.
 */
function countFiveXx(reads: readonly ReadRecord[], first: number): { fiveXx: number; withoutCopy: number } {
  const freshAt = new Map<string, number>();
  let fiveXx = 0;
  let withoutCopy = 0;
  reads.forEach((read, index) => {
    if (read.status === 200 && read.source !== "STALE") freshAt.set(read.gpuId, read.at);
    if (index < first || read.status < 500) return;
    const policy = WORKER_DEFAULTS.policies[read.dataClass];
    const filled = freshAt.get(read.gpuId);
    if (filled !== undefined && read.at - filled < policy.l1MaxMs + policy.staleIfErrorMs) fiveXx += 1;
    else withoutCopy += 1;
  });
  return { fiveXx, withoutCopy };
}
