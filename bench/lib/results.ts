/**
 * The shape of `bench/results/latest.json`, defined once: the harness validates what it
 * writes against it, the smoke test reads it back through it, and the Markdown and SVG
 * reports take it as their only input. Field names the issue fixes are kept verbatim.
 */
import { z } from "zod";
import { DATA_CLASS_NAMES } from "../../core/data-classes";
import { BODY_SIZE_BUCKET_NAMES } from "./body-size";

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
  /** With the tally: per X-Cache value, the responses and body bytes in each size bucket (bench/lib/body-size.ts). */
  xCacheBodies: z
    .record(
      z.string(),
      z.partialRecord(z.enum(BODY_SIZE_BUCKET_NAMES), z.object({ responses: count, bytes: count })),
    )
    .optional(),
});
export type LoadSummary = z.infer<typeof loadSummarySchema>;

export const percentilesSchema = z.object({ count, p50: ms, p99: ms, max: ms });
export type Percentiles = z.infer<typeof percentilesSchema>;

/** One request at a time, timed in the load process to the microsecond (bench/lib/load.ts ProbeOptions). */
export const latencyProbeSchema = percentilesSchema.extend({ errors: count });
export type LatencyProbe = z.infer<typeof latencyProbeSchema>;

/** One peer Worker under the peers' load. */
export const peerLoadSchema = z.object({
  rps: z.number().nonnegative(),
  p50Ms: ms,
  p99Ms: ms,
  redisCommandsPer1k: z.number().nonnegative(),
  load: loadSummarySchema,
});
export type PeerLoad = z.infer<typeof peerLoadSchema>;

/** Ours against the naive Upstash Worker with Redis at one distance. */
export const distanceComparisonSchema = z.object({
  /** What the Workers' bridge added to every request (0: loopback). */
  redisDelayMs: ms,
  throughputVsNaive: ratio,
  /**
   * p50 and p99 of the throughput runs, ours ÷ naive. Those runs saturate the Workers, so
   * their latency is mostly queueing (p50 ≈ connections ÷ throughput) and restates throughput.
   */
  underLoad: z.object({ p50VsNaive: ratio, p99VsNaive: ratio }),
  /** One request at a time over the same paths: what a request costs, the latency the issue means. */
  oneAtATime: z.object({
    p50VsNaive: ratio,
    p99VsNaive: ratio,
    naive: latencyProbeSchema,
    ours: latencyProbeSchema,
  }),
});
export type DistanceComparison = z.infer<typeof distanceComparisonSchema>;

export const peerSchema = peerLoadSchema.extend({
  /** Time from the update's webhook request until this Worker served the new body. */
  stalenessMs: ms,
  /** True when the Worker still served the old body when the probe gave up (stalenessMs is then the probe's limit). */
  stalenessCapped: z.boolean(),
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

/** The realistic mix, with the Workers' Redis at one distance. */
export const mixSchema = z.object({
  /** What the Workers' bridge added to every request during the mix (settings.redisDelayMs). */
  redisDelayMs: ms,
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
  /** Public GETs the sample origin answered during the measured run: each one origin fetch. */
  originFetches: count,
  originFetchesPer1k: z.number().nonnegative(),
  /** redisCommandsPer1k at Upstash's pay-as-you-go list price (bench/lib/pricing.ts). */
  redisUsdPerMillionRequests: z.number().nonnegative(),
});
export type MixResult = z.infer<typeof mixSchema>;

/** Median µs per body of one codec, over the bodies timed in a bucket (each body its own median of many runs). */
const codecTimingSchema = z.object({ compressUs: ms, decompressUs: ms });

export const COMPRESSION_FORMATS = ["gzip", "deflate-raw"] as const;

/** Bodies of one size bucket, every one compressed once by each codec. */
export const compressionBucketSchema = z.object({
  bucket: z.enum(BODY_SIZE_BUCKET_NAMES),
  bodies: count,
  bytes: count,
  /** Compressed sizes, raw bytes (what a binary-safe store would keep). */
  gzipBytes: count,
  deflateRawBytes: count,
  /** Bodies of the bucket that were timed (spread over its sizes). */
  timedBodies: count,
  gzip: codecTimingSchema,
  deflateRaw: codecTimingSchema,
  /** node:zlib's synchronous gzip on the same bodies: the codec alone, the floor a native CompressionStream nears. */
  zlibGzip: codecTimingSchema,
});

/** One compression policy applied to the mix's L2 traffic: bodies at or above the threshold compressed. */
export const compressionEstimateSchema = z.object({
  format: z.enum(COMPRESSION_FORMATS),
  thresholdBytes: count,
  /** L2 value bytes moved per 1,000 edge requests, compressed values counted as base64 text (the REST API carries JSON strings). */
  bytesPer1k: z.number().nonnegative(),
  /** 1 − bytesPer1k ÷ the uncompressed figure. */
  savedShare: z.number(),
  /** CPU the Worker would spend per 1,000 edge requests: compressing the values it writes, inflating the ones it reads. */
  cpuMsPer1k: z.number().nonnegative(),
});

export const compressionSchema = z.object({
  /** Where the CPU times were taken: Node's CompressionStream (workerd's is native code, likely faster). */
  runtime: z.string(),
  /** Distinct bodies measured: every key of the mix's universe, as the sample origin answers it. */
  bodies: count,
  runsPerBody: count,
  buckets: z.array(compressionBucketSchema),
  mixL2: z.object({
    redisDelayMs: ms,
    requests: count,
    /** Values our Worker read from L2 (background refreshes and listing views included), and origin fills it wrote, from /_cache/stats. */
    valueReadsPer1k: z.number().nonnegative(),
    valueWritesPer1k: z.number().nonnegative(),
    /** Answers whose body came out of L2 or went into it (X-Cache L2, ORIGIN, STALE), by size bucket: the sizes L2 moves. */
    sampledBodies: z.partialRecord(
      z.enum(BODY_SIZE_BUCKET_NAMES),
      z.object({ responses: count, bytes: count }),
    ),
    /** Value bytes moved per 1,000 edge requests without compression. */
    bytesPer1k: z.number().nonnegative(),
    estimates: z.array(compressionEstimateSchema),
  }),
});
export type CompressionResults = z.infer<typeof compressionSchema>;

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
    /** The round trip the distant Workers' bridge adds per request (`--redis-delay-ms`). */
    redisDelayMs: ms,
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
  /** The same load with every Workers' Redis request delayed by settings.redisDelayMs (no staleness probe). */
  peersAtRedisDelay: z.object({ naive: peerLoadSchema, honoCache: peerLoadSchema, ours: peerLoadSchema }),
  /** Ours ÷ naive at both distances: throughput and latency side by side. */
  latencyVsNaive: z.object({ loopback: distanceComparisonSchema, distant: distanceComparisonSchema }),

  // 3. Realistic mix: with the Workers' Redis settings.redisDelayMs away (the targets' figures) …
  mix: mixSchema,
  /** … and on loopback, for comparison. */
  mixLoopback: mixSchema,

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

  // 9. Compression of L2 values: measured, not implemented
  compression: compressionSchema,

  targets: z.array(targetSchema),
});
export type BenchResults = z.infer<typeof benchResultsSchema>;
