/**
 * The shape of `bench/results/latest.json`, defined once: the harness validates what it
 * writes against it, the smoke test reads it back through it, and the Markdown and SVG
 * reports take it as their only input. Field names the issue fixes are kept verbatim.
 */
import { z } from "zod";
import { DATA_CLASS_NAMES } from "../../core/data-classes";

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const ratio = z.number().nonnegative();

/** One autocannon run against one Worker. */
export const loadSummarySchema = z.object({
  requests: count,
  rps: z.number().nonnegative(),
  p50Ms: ms,
  p99Ms: ms,
  non2xx: count,
  errors: count,
  /** CPU the Worker's workerd process spent per 1,000 requests of the run (Linux /proc; absent elsewhere). */
  workerCpuMsPer1k: z.number().nonnegative().optional(),
  /** Responses per HTTP status, when some were not 2xx. */
  statusCodes: z.record(z.string(), count).optional(),
  /** Responses per X-Cache value, when the run tallied them. */
  xCache: z.record(z.string(), count).optional(),
});
export type LoadSummary = z.infer<typeof loadSummarySchema>;

export const percentilesSchema = z.object({ count, p50: ms, p99: ms, max: ms });
export type Percentiles = z.infer<typeof percentilesSchema>;

export const peerSchema = z.object({
  rps: z.number().nonnegative(),
  p50Ms: ms,
  p99Ms: ms,
  redisCommandsPer1k: z.number().nonnegative(),
  /** Time from the update's webhook request until this Worker served the new body. */
  stalenessMs: ms,
  /** True when the Worker still served the old body when the probe gave up (stalenessMs is then the probe's limit). */
  stalenessCapped: z.boolean(),
  load: loadSummarySchema,
});
export type PeerResult = z.infer<typeof peerSchema>;

export const targetSchema = z.object({
  name: z.string(),
  target: z.string(),
  measured: z.string(),
  met: z.boolean(),
});
export type TargetCheck = z.infer<typeof targetSchema>;

/** One data class in one freshness run (dev/freshness/summary.ts ClassFreshness). */
export const freshnessClassSchema = z.object({
  dataClass: z.enum(DATA_CLASS_NAMES),
  /** cdnMaxAgeSeconds · 1000 + L1_SYNC_INTERVAL_MS + the margin (dev/freshness/bounds.ts). */
  boundMs: ms,
  reads: count,
  errors: count,
  /** Reads that missed at least one acknowledged version. */
  staleReads: count,
  beyondBound: count,
  /** The age of each read: the time since the oldest acknowledged version it missed (0 for none). */
  ageMs: percentilesSchema,
  /** Share of the reads per CF-Cache-Status value (the front cache). */
  frontStatus: z.record(z.string(), ratio),
  /** Reads the front cache passed to the Worker (not HIT or STALE). */
  workerAnswered: count,
  /** Share of those per X-Cache value (the Worker's tiers). */
  workerTier: z.record(z.string(), ratio),
});

const visibilitySchema = z.object({
  changes: count,
  shownWithinBound: count,
  /** From the 202 to the first read sent after it that showed the change. */
  shownAfterMs: percentilesSchema,
});

export const freshnessModeSchema = z.object({
  /** The Worker's ORIGIN_VERSION_PARAM: "" is versioned refills off, as before the fix. */
  originVersionParam: z.string(),
  durationSeconds: z.number().positive(),
  readers: count,
  eventIntervalMs: ms,
  /** Webhook deliveries the writer sent, and the events in them (market-stats ones included). */
  deliveries: count,
  events: count,
  deliveriesPerSecond: z.number().nonnegative(),
  eventsPerSecond: z.number().nonnegative(),
  classes: z.array(freshnessClassSchema),
  bookings: z.object({ record: visibilitySchema, listing: visibilitySchema }),
  backCache: z.object({
    /** Public GETs the origin served: each came through the back cache. */
    originRequests: count,
    workerOriginFetches: count.nullable(),
    versionedOriginFetches: count.nullable(),
    /** Worker origin fetches the origin never saw: answered by the back cache. */
    backCacheHitsAtLeast: count.nullable(),
  }),
});
export type FreshnessMode = z.infer<typeof freshnessModeSchema>;

export const freshnessTiersSchema = z.union([
  z.object({
    syncIntervalMs: count,
    marginMs: count,
    cloudfrontCompletionDelayMs: count,
    /** As configured: refills carry their tags' version. */
    fixed: freshnessModeSchema,
    /** ORIGIN_VERSION_PARAM="": refills as before the fix. */
    beforeFix: freshnessModeSchema,
    /** Null while the local stack counts no Workers Cache purge calls. */
    workersCachePurgeCallsPer1kEvents: z.number().nonnegative(),
  }),
  /** Outside CI without varnishd: not run, and its targets count as missed. */
  z.object({ skipped: z.string() }),
]);
export type FreshnessTiers = z.infer<typeof freshnessTiersSchema>;

export const benchResultsSchema = z.object({
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  profile: z.enum(["full", "quick", "smoke"]),
  command: z.string(),
  machine: z.object({
    cpus: count,
    cpuModel: z.string(),
    memoryGiB: z.number().nonnegative(),
    platform: z.string(),
    arch: z.string(),
    node: z.string(),
    redisServer: z.string(),
  }),
  settings: z.object({
    connections: count,
    secondsPerRun: z.number().positive(),
    l1SyncIntervalMs: count,
  }),

  // 1. L1 ceiling
  l1HitVsBareThroughputRatio: ratio,
  /** The same against a bare Worker that also sends our L1 hit's headers: the cost of the cache work alone. */
  l1HitVsBareSameHeadersThroughputRatio: ratio,
  l1Ceiling: z.object({
    path: z.string(),
    bodyBytes: count,
    rounds: count,
    bare: loadSummarySchema,
    bareSameHeaders: loadSummarySchema,
    ours: loadSummarySchema,
  }),

  // 2. Peers at the edge
  peers: z.object({ naive: peerSchema, honoCache: peerSchema, ours: peerSchema }),
  peerComparison: z.object({
    throughputVsNaive: ratio,
    redisCommandsVsNaive: ratio,
    /** Our Worker's CPU per request divided by the naive Worker's (where /proc tells). */
    workerCpuVsNaive: ratio.optional(),
    stalenessPath: z.string(),
    /** What each peer's cache lifetime was for the probed path (the origin's s-maxage). */
    peerTtlSeconds: count,
  }),

  // 3. Realistic mix
  mix: z.object({
    keys: count,
    zipfS: z.number().positive(),
    requests: count,
    rps: z.number().nonnegative(),
    l1HitRatio: ratio,
    l2HitRatio: ratio,
    overallHitRatio: ratio,
    redisCommandsPer1k: z.number().nonnegative(),
    p50Ms: ms,
    p99Ms: ms,
    non2xx: count,
    eventsSent: count,
    eventsPerSecond: z.number().nonnegative(),
    staleServed: count,
    workerCpuMsPer1k: z.number().nonnegative().optional(),
  }),

  // 4. Propagation
  propagationMs: z.object({
    redis: percentilesSchema,
    edge: percentilesSchema,
    cloudflarePurge: percentilesSchema,
    cloudfrontPurge: percentilesSchema,
  }),
  propagation: z.object({
    events: count,
    inFlight: count,
    /** How CloudFront purges left the event app (queued through SQS, or sent inline). */
    cloudfrontMode: z.enum(["queued", "inline"]),
  }),

  // 5. Event throughput
  eventsPerSecond: z.number().nonnegative(),
  redisRoundTripsPerEvent: z.number().nonnegative(),
  events: z.object({
    single: z.object({ events: count, eventsPerSecond: z.number().nonnegative(), roundTripsPerEvent: ratio }),
    batched: z.object({
      events: count,
      batchSize: count,
      eventsPerSecond: z.number().nonnegative(),
      roundTripsPerEvent: ratio,
    }),
  }),

  // 6. Engine peer in Node
  engineVsBentocache: z.object({
    l1HitRatio: ratio,
    l2HitRatio: ratio,
    ours: z.object({ l1HitOpsPerSec: z.number().nonnegative(), l2HitOpsPerSec: z.number().nonnegative() }),
    bentocache: z.object({
      l1HitOpsPerSec: z.number().nonnegative(),
      l2HitOpsPerSec: z.number().nonnegative(),
    }),
    notes: z.array(z.string()),
  }),

  // 7. Sizes
  bundle: z.object({
    workerBytes: count,
    workerGzipBytes: count,
    lambdaBytes: count,
    lambdaGzipBytes: count,
  }),
  /** What L1 counts against L1_MAX_BYTES for 1,000 GPU records. */
  l1BytesPer1kEntries: count,
  /** Heap growth measured for the same 1,000 entries (Node, after GC). */
  l1HeapBytesPer1kEntries: count,

  // 8. Freshness through every tier
  freshnessTiers: freshnessTiersSchema,

  targets: z.array(targetSchema),
});
export type BenchResults = z.infer<typeof benchResultsSchema>;
