/**
 * A plausible, fully populated `BenchResults` for checking the Markdown and SVG reports without
 * running the suite. The numbers are made up but internally consistent (ratios match the raw
 * values, targets match the measurements) and two targets are missed so the ❌ path shows.
 */
import type { BenchResults, FreshnessMode, LatencyProbe, LoadSummary, PeerLoad, PeerResult } from "./results";

const SECONDS = 10;
const CONNECTIONS = 50;

function load(rps: number, p50Ms: number, p99Ms: number): LoadSummary {
  return { requests: Math.round(rps * SECONDS), rps, p50Ms, p99Ms, non2xx: 0, errors: 0 };
}

function peer(
  rps: number,
  p50Ms: number,
  p99Ms: number,
  redisCommandsPer1k: number,
  stalenessMs: number,
): PeerResult {
  return {
    rps,
    p50Ms,
    p99Ms,
    redisCommandsPer1k,
    stalenessMs,
    stalenessCapped: false,
    load: load(rps, p50Ms, p99Ms),
  };
}

function peerLoad(rps: number, p50Ms: number, p99Ms: number, redisCommandsPer1k: number): PeerLoad {
  return { rps, p50Ms, p99Ms, redisCommandsPer1k, load: load(rps, p50Ms, p99Ms) };
}

function probe(p50: number, p99: number, count: number): LatencyProbe {
  return { count, p50, p99, max: p99 * 1.5, errors: 0 };
}

function freshnessMode(originVersionParam: string, availabilityBeyond: number): FreshnessMode {
  const age = (p99: number) => ({ count: 1_400, p50: 0, p99, max: p99 + 60 });
  const classRow = (dataClass: "availability" | "pricing" | "gpu", reads: number, beyondBound: number) => ({
    dataClass,
    boundMs: 2_000,
    reads,
    errors: 0,
    staleReads: Math.round(reads * 0.45),
    beyondBound,
    ageMs: age(beyondBound > 0 ? 5_100 : 820),
    frontStatus: { HIT: 0.97, EXPIRED: 0.02, REVALIDATED: 0.01 },
    workerAnswered: Math.round(reads * 0.03),
    workerTier: { L1: 0.25, L2: 0.5, ORIGIN: 0.25 },
  });
  return {
    originVersionParam,
    durationSeconds: 30,
    readers: 6,
    eventIntervalMs: 250,
    deliveries: 112,
    events: 224,
    deliveriesPerSecond: 4,
    eventsPerSecond: 8,
    classes: [
      classRow("availability", 1_400, availabilityBeyond),
      classRow("pricing", 1_400, 0),
      classRow("gpu", 2_800, 0),
    ],
    bookings: {
      record: {
        changes: 38,
        shownWithinBound: 38,
        shownAfterMs: { count: 38, p50: 540, p99: 990, max: 990 },
      },
      listing: {
        changes: 38,
        shownWithinBound: availabilityBeyond > 0 ? 6 : 38,
        shownAfterMs: { count: 38, p50: 480, p99: 5_300, max: 5_300 },
      },
    },
    backCache: {
      originRequests: originVersionParam ? 56 : 14,
      workerOriginFetches: 56,
      versionedOriginFetches: originVersionParam ? 56 : 0,
      backCacheHitsAtLeast: originVersionParam ? 0 : 42,
    },
  };
}

function bucket(
  name: BenchResults["compression"]["buckets"][number]["bucket"],
  bodies: number,
  bytes: number,
  ratio: number,
  compressUs: number,
  decompressUs: number,
): BenchResults["compression"]["buckets"][number] {
  return {
    bucket: name,
    bodies,
    bytes,
    gzipBytes: Math.round(bytes * ratio) + bodies * 18,
    deflateRawBytes: Math.round(bytes * ratio),
    timedBodies: 24,
    gzip: { compressUs, decompressUs },
    deflateRaw: { compressUs: compressUs * 0.95, decompressUs: decompressUs * 0.95 },
    zlibGzip: { compressUs: compressUs * 0.4, decompressUs: decompressUs * 0.3 },
  };
}

export const SAMPLE_RESULTS: BenchResults = {
  startedAt: "2026-05-04T09:12:31.000Z",
  finishedAt: "2026-05-04T09:21:07.000Z",
  profile: "full",
  command: "npm run bench -- --profile full",
  machine: {
    cpus: 8,
    cpuModel: "AMD EPYC 7763 64-Core Processor",
    memoryGiB: 31.3,
    platform: "linux",
    arch: "x64",
    node: "v24.11.1",
    redisServer: "7.4.2",
  },
  settings: { connections: CONNECTIONS, secondsPerRun: SECONDS, l1SyncIntervalMs: 500, redisDelayMs: 20 },

  // 1. L1 ceiling
  l1HitVsBareThroughputRatio: 0.92,
  l1HitVsBareSameHeadersThroughputRatio: 0.99,
  l1Ceiling: {
    path: "/v1/gpus/h100-sxm-80g",
    bodyBytes: 1234,
    rounds: 3,
    bare: load(5000, 9.1, 18.4),
    bareSameHeaders: load(4650, 9.8, 21.0),
    ours: load(4600, 9.9, 21.2),
  },

  // 2. Peers at the edge
  peers: {
    naive: peer(700, 69.2, 141.5, 1000, 5050),
    honoCache: peer(3900, 12.1, 27.8, 4.2, 5100),
    ours: peer(4600, 10.4, 23.9, 2.1, 420),
  },
  peerComparison: {
    throughputVsNaive: 6.57,
    redisCommandsVsNaive: 0.0021,
    stalenessPath: "/v1/gpus/a100-pcie-40g",
    peerTtlSeconds: 5,
  },
  peersAtRedisDelay: {
    naive: peerLoad(620, 78, 160, 1000),
    honoCache: peerLoad(3900, 12.1, 27.8, 0),
    ours: peerLoad(4500, 10.6, 24.5, 2.3),
  },
  latencyVsNaive: {
    loopback: {
      redisDelayMs: 0,
      throughputVsNaive: 6.57,
      underLoad: { p50VsNaive: 0.15, p99VsNaive: 0.17 },
      oneAtATime: {
        p50VsNaive: 0.5,
        p99VsNaive: 0.45,
        naive: probe(1.2, 2.4, 1600),
        ours: probe(0.6, 1.08, 3300),
      },
    },
    distant: {
      redisDelayMs: 20,
      throughputVsNaive: 7.26,
      underLoad: { p50VsNaive: 0.14, p99VsNaive: 0.15 },
      oneAtATime: {
        p50VsNaive: 0.028,
        p99VsNaive: 0.044,
        naive: probe(21.4, 24.6, 92),
        ours: probe(0.6, 1.08, 3300),
      },
    },
  },

  // 3. Realistic mix
  mix: {
    redisDelayMs: 20,
    keys: 10_000,
    zipfS: 1.1,
    requests: 43_500,
    rps: 4350,
    l1HitRatio: 0.985,
    l2HitRatio: 0.012,
    overallHitRatio: 0.997,
    redisCommandsPer1k: 24.6,
    p50Ms: 10.8,
    p99Ms: 31.4,
    non2xx: 0,
    eventsSent: 200,
    eventsPerSecond: 20,
    staleServed: 3,
    originFetches: 130,
    originFetchesPer1k: 2.99,
    redisUsdPerMillionRequests: 0.0492,
  },

  mixLoopback: {
    redisDelayMs: 0,
    keys: 10_000,
    zipfS: 1.1,
    requests: 45_000,
    rps: 4500,
    l1HitRatio: 0.986,
    l2HitRatio: 0.011,
    overallHitRatio: 0.997,
    redisCommandsPer1k: 25.1,
    p50Ms: 10.2,
    p99Ms: 28.9,
    non2xx: 0,
    eventsSent: 200,
    eventsPerSecond: 20,
    staleServed: 4,
    originFetches: 120,
    originFetchesPer1k: 2.67,
    redisUsdPerMillionRequests: 0.0502,
  },

  // 4. Propagation
  propagationMs: {
    redis: { count: 200, p50: 3.1, p99: 8, max: 11.4 },
    edge: { count: 200, p50: 270, p99: 560, max: 612 },
    cloudflarePurge: { count: 200, p50: 14.2, p99: 30, max: 41.7 },
    cloudfrontPurge: { count: 200, p50: 640, p99: 1200, max: 1384 },
  },
  propagation: { events: 200, inFlight: 0, cloudfrontMode: "queued" },

  // 5. Event throughput
  eventsPerSecond: 6400,
  redisRoundTripsPerEvent: 0.08,
  events: {
    single: { events: 2000, eventsPerSecond: 850, roundTripsPerEvent: 3 },
    batched: { events: 10_000, batchSize: 50, eventsPerSecond: 6400, roundTripsPerEvent: 0.08 },
  },

  // 6. Engine peer in Node
  engineVsBentocache: {
    l1HitRatio: 2.39,
    l2HitRatio: 1.09,
    ours: { l1HitOpsPerSec: 9_800_000, l2HitOpsPerSec: 42_000 },
    bentocache: { l1HitOpsPerSec: 4_100_000, l2HitOpsPerSec: 38_500 },
    notes: [
      "Both engines use an in-process L1 and ioredis against the same local redis-server.",
      "bentocache ran with its default JSON serializer; ours stores pre-serialized bodies.",
      "L2 hit = L1 cleared before each read, so every read goes to Redis once.",
    ],
  },

  // 7. Sizes
  bundle: {
    workerBytes: 142_336,
    workerGzipBytes: 39_321,
    lambdaBytes: 512_000,
    lambdaGzipBytes: 131_072,
  },
  l1BytesPer1kEntries: 1_310_720,
  l1HeapBytesPer1kEntries: 1_250_000,

  // 8. Freshness through every tier
  freshnessTiers: {
    syncIntervalMs: 500,
    marginMs: 500,
    cloudfrontCompletionDelayMs: 3_000,
    fixed: freshnessMode("_v", 0),
    beforeFix: freshnessMode("", 610),
    workersCachePurgeCallsPer1kEvents: 0,
  },

  // 9. Compression of L2 values
  compression: {
    runtime: "Node v24.11.1 CompressionStream",
    bodies: 10_000,
    runsPerBody: 51,
    buckets: [
      bucket("<1 KiB", 8_700, 5_100_000, 0.55, 70, 40),
      bucket("1–4 KiB", 700, 1_650_000, 0.3, 110, 60),
      bucket("4–16 KiB", 500, 4_200_000, 0.16, 260, 120),
      bucket(">16 KiB", 100, 2_400_000, 0.12, 700, 300),
    ],
    mixL2: {
      redisDelayMs: 20,
      requests: 43_500,
      valueReadsPer1k: 14,
      valueWritesPer1k: 3,
      sampledBodies: {
        "<1 KiB": { responses: 400, bytes: 240_000 },
        "1–4 KiB": { responses: 100, bytes: 230_000 },
        "4–16 KiB": { responses: 150, bytes: 1_260_000 },
        ">16 KiB": { responses: 10, bytes: 240_000 },
      },
      bytesPer1k: 50_742,
      estimates: [
        { format: "gzip", thresholdBytes: 1024, bytesPer1k: 17_000, savedShare: 0.665, cpuMsPer1k: 2.4 },
        { format: "gzip", thresholdBytes: 4096, bytesPer1k: 21_600, savedShare: 0.574, cpuMsPer1k: 1.9 },
        {
          format: "deflate-raw",
          thresholdBytes: 1024,
          bytesPer1k: 16_800,
          savedShare: 0.669,
          cpuMsPer1k: 2.3,
        },
        {
          format: "deflate-raw",
          thresholdBytes: 4096,
          bytesPer1k: 21_500,
          savedShare: 0.576,
          cpuMsPer1k: 1.8,
        },
      ],
    },
  },

  targets: [
    { name: "L1 hit vs bare Hono throughput", target: "≥ 0.90×", measured: "0.92×", met: true },
    { name: "Throughput vs naive Upstash GET", target: "≥ 5×", measured: "6.57×", met: true },
    { name: "Redis commands vs naive", target: "≤ 0.05×", measured: "0.0021×", met: true },
    { name: "Staleness after an update", target: "≤ 600 ms", measured: "420 ms", met: true },
    { name: "Overall hit ratio (mix)", target: "≥ 99%", measured: "99.70%", met: true },
    { name: "Edge propagation p99", target: "≤ 1,000 ms", measured: "560 ms", met: true },
    { name: "CloudFront purge p99", target: "≤ 1,000 ms", measured: "1,200 ms", met: false },
    { name: "Event throughput (batched)", target: "≥ 5,000 events/s", measured: "6,400 events/s", met: true },
    { name: "Redis round trips per event", target: "≤ 0.05", measured: "0.08", met: false },
    { name: "Worker bundle (gzip)", target: "≤ 100 KiB", measured: "38.4 KiB", met: true },
  ],
};
