/**
 * `GET /_cache/metrics` (operator token): this isolate's counters and gauges in the Prometheus
 * text format (workers/telemetry/prometheus.ts), from the same numbers as /_cache/stats. Each
 * isolate counts for itself, from its start: a scrape sees whichever isolate answered it, so
 * these are for a look at one isolate and for alerts on gauges (sync age, circuit, memory);
 * fleet-wide ratios come from the Analytics Engine data points.
 */
import type { CacheSource, TieredCache } from "../core/cache/tiered-cache";
import { DATA_CLASS_NAMES } from "../core/data-classes";
import { isolateMemory } from "./isolate-memory";
import type { LookupMemo } from "./lookup-memo";
import type { ReferenceCatalog } from "./reference-catalog";
import { type EdgeTelemetry, Exposition, type Sample } from "./telemetry";

export const METRIC_PREFIX = "gpu_edge_cache_";

export interface MetricsSources {
  readonly cache: TieredCache;
  readonly lookups: Pick<LookupMemo, "usage">;
  readonly references: Pick<ReferenceCatalog, "memory" | "stats">;
  readonly telemetry: Pick<EdgeTelemetry, "points" | "requests" | "actions">;
}

const SOURCES: readonly CacheSource[] = ["L1", "L2", "ORIGIN", "STALE", "BYPASS"];

/** The memory structures as /_cache/stats names them, and their label. */
const STRUCTURES = [
  ["entries", "l1"],
  ["negative", "negative"],
  ["tagHistory", "tag_history"],
  ["loads", "loads"],
  ["refreshes", "refreshes"],
  ["lookupMemo", "lookup_memo"],
  ["referenceLists", "reference_lists"],
] as const;

const CIRCUIT_STATES = ["closed", "open", "half-open"] as const;

function one(value: number): Sample[] {
  return [{ value }];
}

export function metricsText(sources: MetricsSources): string {
  const { cache, telemetry } = sources;
  const stats = cache.stats;
  const health = cache.health;
  const memory = isolateMemory(sources);
  const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`;
  const out = new Exposition();

  out
    .counter(name("hits_total"), "Loads answered by a tier (per load: concurrent requests share one).", [
      { labels: { tier: "l1" }, value: stats.hits.l1 },
      { labels: { tier: "l2" }, value: stats.hits.l2 },
      { labels: { tier: "origin" }, value: stats.hits.origin },
    ])
    .counter(name("misses_total"), "Lookups a tier could not answer.", [
      { labels: { tier: "l1" }, value: stats.misses.l1 },
      { labels: { tier: "l2" }, value: stats.misses.l2 },
    ])
    .counter(
      name("answers_total"),
      "Answers of the engine per data class and tier (X-Cache), one per answer; a negative entry's 404 counts as l1.",
      DATA_CLASS_NAMES.flatMap((dataClass) =>
        SOURCES.map((source) => ({
          labels: { data_class: dataClass, tier: source.toLowerCase() },
          value: stats.answers[dataClass][source],
        })),
      ),
    )
    .counter(name("stale_served_total"), "Answers served stale, by why.", [
      { labels: { reason: "revalidating" }, value: stats.staleServed.revalidating },
      { labels: { reason: "error" }, value: stats.staleServed.error },
    ])
    .counter(name("bypass_total"), "Origin answers marked private, passed on uncached.", one(stats.bypass))
    .counter(
      name("negative_hits_total"),
      "Answers from a negative entry (an origin 404 kept briefly in this isolate).",
      one(stats.negativeHits),
    )
    .counter(
      name("redis_commands_total"),
      "Redis calls made (L2 reads and fills, log and tag-version reads).",
      one(stats.redisCommands),
    )
    .counter(name("redis_errors_total"), "Redis calls that failed or timed out.", one(stats.redisErrors))
    .counter(
      name("origin_fetches_total"),
      "Origin fetches of the engine: answered, private or failed.",
      one(stats.hits.origin + stats.bypass + stats.originErrors),
    )
    .counter(
      name("origin_errors_total"),
      "Origin fetches that failed, timed out or answered 5xx.",
      one(stats.originErrors),
    )
    .counter(
      name("versioned_origin_fetches_total"),
      "Origin fetches that carried a tag version (refills after an event).",
      one(stats.versionedOriginFetches),
    )
    .counter(name("l1_evictions_total"), "L1 entries dropped by an invalidation, by cause.", [
      { labels: { cause: "tag" }, value: stats.l1Evictions.byTag },
      { labels: { cause: "clear" }, value: stats.l1Evictions.clears },
    ])
    .counter(name("fills_refused_total"), "L2 fills Redis refused, by why.", [
      { labels: { reason: "older" }, value: stats.fillsRefused.older },
      { labels: { reason: "raced" }, value: stats.fillsRefused.raced },
    ])
    .counter(
      name("invalidation_syncs_total"),
      "Reads of the invalidation log applied to L1.",
      one(stats.syncs),
    )
    .counter(
      name("invalidation_log_resets_total"),
      "Log reads that found another log than the cursor's (Redis lost or replaced its data); each cleared L1.",
      one(stats.logResets),
    )
    .gauge(
      name("invalidation_sync_age_seconds"),
      "Seconds since this isolate last read the invalidation log (absent before its first read).",
      health.lastSyncAgoMs === undefined ? [] : one(health.lastSyncAgoMs / 1000),
    )
    .gauge(
      name("invalidation_sync_failing"),
      "1 while the last read of the invalidation log failed.",
      one(health.lastSyncError === undefined ? 0 : 1),
    )
    .gauge(
      name("redis_circuit_state"),
      "The Redis circuit breaker's state: 1 for the current one.",
      CIRCUIT_STATES.map((state) => ({ labels: { state }, value: health.circuit === state ? 1 : 0 })),
    )
    .gauge(
      name("isolate_age_seconds"),
      "Seconds since this isolate built its services.",
      one(health.isolateAgeMs / 1000),
    )
    .gauge(
      name("memory_bytes"),
      "Bytes held per structure (estimated, erring high).",
      STRUCTURES.map(([key, structure]) => ({ labels: { structure }, value: memory[key].bytes })),
    )
    .gauge(
      name("memory_max_bytes"),
      "Byte budget per structure.",
      STRUCTURES.map(([key, structure]) => ({ labels: { structure }, value: memory[key].maxBytes })),
    )
    .gauge(
      name("memory_entries"),
      "Entries held per structure.",
      STRUCTURES.map(([key, structure]) => ({ labels: { structure }, value: memory[key].entries })),
    )
    .counter(name("pending_work_refused_total"), "Loads or refreshes refused for want of budget.", [
      { labels: { structure: "loads" }, value: memory.loads.refused },
      { labels: { structure: "refreshes" }, value: memory.refreshes.refused },
    ])
    .counter(
      name("reference_values_total"),
      "Region and GPU type values checked, or let through unchecked.",
      [
        { labels: { result: "checked" }, value: sources.references.stats.checked },
        { labels: { result: "unchecked" }, value: sources.references.stats.unchecked },
      ],
    )
    .counter(
      name("reference_refusals_total"),
      "Requests refused (400) for naming an unknown region or GPU type.",
      one(sources.references.stats.refused),
    )
    .counter(
      name("requests_total"),
      "Answered requests by route pattern, data class, tier (X-Cache) and status.",
      telemetry.requests.all.map((series) => ({
        labels: {
          route: series.route,
          data_class: series.dataClass,
          tier: series.tier.toLowerCase(),
          status: series.status,
        },
        value: series.count,
      })),
    )
    .counter(
      name("operator_actions_total"),
      "Operator actions (POST /_cache/purge) by result, each with its audit line.",
      telemetry.actions.map((action) => ({
        labels: { action: action.action, result: action.result },
        value: action.count,
      })),
    )
    .counter(name("data_points_total"), "Analytics Engine data points written, by sink.", [
      { labels: { sink: telemetry.points.kind }, value: telemetry.points.written },
    ])
    .counter(name("data_point_errors_total"), "Data points the sink refused.", [
      { labels: { sink: telemetry.points.kind }, value: telemetry.points.failed },
    ]);
  return out.text();
}
