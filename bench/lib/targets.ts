/** The issue's targets, checked against one run's figures (the report prints them as given). */
import type { BenchResults, TargetCheck } from "./results";

type Figures = Omit<BenchResults, "targets">;

const int = (value: number) => Math.round(value).toLocaleString("en-US");
const msText = (value: number) => `${value.toFixed(0)} ms`;
const msFine = (value: number) => `${value.toFixed(2)} ms`;
const ratioText = (value: number) => `${value.toFixed(value > 0 && value < 0.01 ? 4 : 3)}×`;

/** Both Workers were timed, every probe answered: a ratio to hold to a target. */
function probed(comparison: Figures["latencyVsNaive"]["distant"]): boolean {
  const { naive, ours } = comparison.oneAtATime;
  return naive.count > 0 && ours.count > 0 && naive.errors === 0 && ours.errors === 0;
}

/**
 * Freshness through every tier: per class read, no read older than its bound (as configured;
 * the run before the fix is reported beside it, not held to the target). Not run counts as missed.
 */
export function freshnessTargets(freshness: Figures["freshnessTiers"]): TargetCheck[] {
  if ("skipped" in freshness)
    return [
      {
        name: "Freshness through every tier",
        target: "0 reads beyond the bound",
        measured: `not run: ${freshness.skipped}`,
        met: false,
      },
    ];
  return freshness.fixed.classes.map((item) => {
    const before = freshness.beforeFix.classes.find((other) => other.dataClass === item.dataClass);
    return {
      name: `Freshness through every tier: ${item.dataClass} reads beyond the bound`,
      target: `0 (bound ${int(item.boundMs)} ms)`,
      measured:
        `${int(item.beyondBound)} of ${int(item.reads)}, age p99 ${msText(item.ageMs.p99)}` +
        `${item.errors > 0 ? `, ${int(item.errors)} failed` : ""}` +
        `${before ? ` (before the fix: ${int(before.beyondBound)} of ${int(before.reads)})` : ""}`,
      met: item.reads > 0 && item.errors === 0 && item.beyondBound === 0,
    };
  });
}

export function checkTargets(results: Figures): TargetCheck[] {
  const edgeBound = results.settings.l1SyncIntervalMs + 100;
  const { peers, mix, propagationMs: propagation } = results;
  const { distant } = results.latencyVsNaive;
  const check = (name: string, target: string, measured: string, met: boolean): TargetCheck => ({
    name,
    target,
    measured,
    met,
  });
  return [
    check(
      "L1 hit throughput vs bare Hono",
      "≥ 0.90",
      `${results.l1HitVsBareThroughputRatio.toFixed(2)} (${results.l1HitVsBareSameHeadersThroughputRatio.toFixed(2)} vs bare sending our headers)`,
      results.l1HitVsBareThroughputRatio >= 0.9,
    ),
    check(
      "Throughput vs naive Upstash Worker",
      "≥ 5×",
      `${results.peerComparison.throughputVsNaive.toFixed(1)}× (${int(peers.ours.rps)} vs ${int(peers.naive.rps)} req/s${
        results.peerComparison.workerCpuVsNaive === undefined
          ? ""
          : `; Worker CPU per request ${results.peerComparison.workerCpuVsNaive.toFixed(2)}× naive's`
      }; ${distant.throughputVsNaive.toFixed(1)}× with Redis ${int(distant.redisDelayMs)} ms away)`,
      results.peerComparison.throughputVsNaive >= 5,
    ),
    check(
      "Redis commands vs naive Upstash Worker",
      "≤ 2%",
      `${(results.peerComparison.redisCommandsVsNaive * 100).toFixed(2)}% (${peers.ours.redisCommandsPer1k.toFixed(2)} vs ${peers.naive.redisCommandsPer1k.toFixed(0)} per 1k)`,
      results.peerComparison.redisCommandsVsNaive <= 0.02,
    ),
    check(
      "Staleness after an update",
      `≤ ${edgeBound} ms`,
      `${msText(peers.ours.stalenessMs)} (hono/cache ${peers.honoCache.stalenessCapped ? "≥ " : ""}${msText(peers.honoCache.stalenessMs)})`,
      !peers.ours.stalenessCapped && peers.ours.stalenessMs <= edgeBound,
    ),
    check(
      `Latency with Redis ${int(distant.redisDelayMs)} ms away: ours p50 vs naive Upstash Worker`,
      "≤ 0.10×",
      `${ratioText(distant.oneAtATime.p50VsNaive)} (${msFine(distant.oneAtATime.ours.p50)} vs ${msFine(distant.oneAtATime.naive.p50)}, one request at a time; ` +
        `under load ${ratioText(distant.underLoad.p50VsNaive)}, ${msText(results.peersAtRedisDelay.ours.p50Ms)} vs ${msText(results.peersAtRedisDelay.naive.p50Ms)})`,
      probed(distant) && distant.redisDelayMs > 0 && distant.oneAtATime.p50VsNaive <= 0.1,
    ),
    // The issue's "done when" for the mix: measured with the Workers' Redis a round trip away.
    check(
      "Mix: overall hit ratio",
      "≥ 99.5%",
      `${(mix.overallHitRatio * 100).toFixed(2)}% (Redis ${int(mix.redisDelayMs)} ms away)`,
      mix.requests > 0 && mix.overallHitRatio >= 0.995,
    ),
    check(
      "Mix: Redis commands per 1,000 requests",
      "≤ 10",
      `${mix.redisCommandsPer1k.toFixed(1)} (USD ${mix.redisUsdPerMillionRequests.toFixed(2)} per million requests at pay-as-you-go)`,
      mix.requests > 0 && mix.redisCommandsPer1k <= 10,
    ),
    check(
      "Mix: origin fetches per 1,000 requests",
      "≤ 2",
      `${mix.originFetchesPer1k.toFixed(2)} (${int(mix.originFetches)} of ${int(mix.requests)})`,
      mix.requests > 0 && mix.originFetchesPer1k <= 2,
    ),
    check("Propagation p99: Redis", "≤ 50 ms", msText(propagation.redis.p99), propagation.redis.p99 <= 50),
    check(
      "Propagation p99: Cloudflare purge request",
      "≤ 100 ms",
      msText(propagation.cloudflarePurge.p99),
      propagation.cloudflarePurge.p99 <= 100,
    ),
    check(
      "Propagation p99: CloudFront invalidation request",
      "≤ 100 ms",
      `${msText(propagation.cloudfrontPurge.p99)} (${results.propagation.cloudfrontMode})`,
      propagation.cloudfrontPurge.p99 <= 100,
    ),
    check(
      "Propagation p99: edge",
      `≤ ${edgeBound} ms`,
      msText(propagation.edge.p99),
      propagation.edge.p99 <= edgeBound,
    ),
    check(
      "Events per second (one per delivery)",
      "≥ 500",
      int(results.eventsPerSecond),
      results.eventsPerSecond >= 500,
    ),
    check(
      "Redis round trips per event",
      "≤ 2",
      results.redisRoundTripsPerEvent.toFixed(2),
      results.redisRoundTripsPerEvent <= 2,
    ),
    check(
      "Engine vs bentocache, L1 hits",
      "≥ 1.00 (on par)",
      `${results.engineVsBentocache.l1HitRatio.toFixed(2)}×`,
      results.engineVsBentocache.l1HitRatio >= 1,
    ),
    check(
      "Engine vs bentocache, L2 hits",
      "≥ 1.00 (on par)",
      `${results.engineVsBentocache.l2HitRatio.toFixed(2)}×`,
      results.engineVsBentocache.l2HitRatio >= 1,
    ),
    ...freshnessTargets(results.freshnessTiers),
  ];
}
