/**
 * 9. Compression of large L2 values, measured and not implemented: would compressing bodies
 * before they go into Redis pay? Every key of the mix's universe is rendered by the sample
 * origin (an in-process copy of its app over the same store, so the origin's counters do not
 * move), compressed once with `CompressionStream("gzip")` and `"deflate-raw"` (the Web API
 * workerd has too) for the sizes, and a spread of bodies per size bucket is timed, compress and
 * decompress, median of many runs. The mix's L2 traffic (what it read from and wrote to L2, and
 * the sizes of those bodies) turns that into value bytes and Worker CPU per 1,000 requests.
 *
 * CPU is the process's (process.cpuUsage, zlib's threads included) around one call on an
 * otherwise idle process: Node's CompressionStream adds stream plumbing that workerd's native
 * one does not, so these times are an upper bound for the Worker; node:zlib's synchronous gzip
 * on the same bodies is timed beside them as the floor (the codec alone).
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { createOriginApp } from "../../dev/origin/app";
import type { MarketplaceStore } from "../../dev/origin/store";
import {
  BODY_SIZE_BUCKET_NAMES,
  type BodySizeBucket,
  bodySizeBucket,
  bucketLowerBytes,
} from "../lib/body-size";
import { median } from "../lib/median";
import type { BenchProfile } from "../lib/profile";
import { COMPRESSION_FORMATS, type CompressionResults } from "../lib/results";
import type { MixL2Traffic } from "./mix";

type Format = (typeof COMPRESSION_FORMATS)[number];

/** Bodies at or above these are compressed in the estimates (both on bucket edges). */
export const COMPRESSION_THRESHOLDS_BYTES = [1024, 4096] as const;

/** How many bodies render at once: the origin app is in-process, so this only overlaps its awaits. */
const RENDER_BATCH = 64;

async function through(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const source = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  return new Uint8Array(await new Response(source.pipeThrough(stream)).arrayBuffer());
}

const compress = (bytes: Uint8Array, format: Format) => through(bytes, new CompressionStream(format));
const decompress = (bytes: Uint8Array, format: Format) => through(bytes, new DecompressionStream(format));

/** CPU µs (user + system, every thread of the process) of one call. */
async function cpuMicros(work: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const spent = process.cpuUsage(before);
  return spent.user + spent.system;
}

/** The bodies the sample origin answers for `paths` now (200s only; a 404 is never stored in L2). */
async function renderBodies(store: MarketplaceStore, paths: readonly string[]): Promise<Uint8Array[]> {
  const app = createOriginApp({ store });
  const bodies: Uint8Array[] = [];
  for (let start = 0; start < paths.length; start += RENDER_BATCH) {
    const batch = await Promise.all(
      paths.slice(start, start + RENDER_BATCH).map(async (path) => {
        const response = await app.request(path);
        return response.ok ? new Uint8Array(await response.arrayBuffer()) : undefined;
      }),
    );
    for (const body of batch) if (body) bodies.push(body);
  }
  return bodies;
}

/** `count` items spread evenly over `items` sorted by size: the small, the middle and the large of a bucket. */
function spread(items: readonly Uint8Array[], count: number): Uint8Array[] {
  const sorted = [...items].sort((a, b) => a.length - b.length);
  if (sorted.length <= count) return sorted;
  return Array.from(
    { length: count },
    (_, index) => sorted[Math.round((index * (sorted.length - 1)) / Math.max(1, count - 1))] as Uint8Array,
  );
}

/** What is timed: each codec through CompressionStream, and gzip through node:zlib alone for the floor. */
const TIMED = [
  { key: "gzip", format: "gzip" },
  { key: "deflateRaw", format: "deflate-raw" },
  { key: "zlibGzip", format: "gzip" },
] as const;
type TimedKey = (typeof TIMED)[number]["key"];
type Timing = { compressUs: number; decompressUs: number };

/**
 * Runs are the outer loop, every body and codec the inner one, so a slow spell of the machine
 * (other processes on its two cores) spreads over every figure instead of landing on one bucket.
 */
async function timeBodies(
  timedByBucket: ReadonlyMap<BodySizeBucket, readonly Uint8Array[]>,
  runs: number,
): Promise<Map<BodySizeBucket, Record<TimedKey, Timing>>> {
  type Sample = {
    bucket: BodySizeBucket;
    key: TimedKey;
    format: Format;
    body: Uint8Array;
    packed: Uint8Array;
    c: number[];
    d: number[];
  };
  const samples: Sample[] = [];
  for (const [bucket, bodies] of timedByBucket)
    for (const body of bodies)
      for (const { key, format } of TIMED) {
        const packed = key === "zlibGzip" ? new Uint8Array(gzipSync(body)) : await compress(body, format);
        const restored = key === "zlibGzip" ? gunzipSync(packed) : await decompress(packed, format);
        if (restored.length !== body.length)
          throw new Error(`${key} did not round-trip a ${body.length} B body`);
        samples.push({ bucket, key, format, body, packed, c: [], d: [] });
      }
  for (let run = 0; run < runs; run++)
    for (const sample of samples) {
      const { body, packed, key, format } = sample;
      if (key === "zlibGzip") {
        sample.c.push(await cpuMicros(async () => gzipSync(body)));
        sample.d.push(await cpuMicros(async () => gunzipSync(packed)));
      } else {
        sample.c.push(await cpuMicros(() => compress(body, format)));
        sample.d.push(await cpuMicros(() => decompress(packed, format)));
      }
    }
  const timings = new Map<BodySizeBucket, Record<TimedKey, Timing>>();
  for (const bucket of timedByBucket.keys()) {
    const of = (key: TimedKey): Timing => {
      const mine = samples.filter((sample) => sample.bucket === bucket && sample.key === key);
      // Each body its median over the runs; the bucket the median of its bodies.
      return {
        compressUs: median(mine.map((sample) => median(sample.c))),
        decompressUs: median(mine.map((sample) => median(sample.d))),
      };
    };
    timings.set(bucket, { gzip: of("gzip"), deflateRaw: of("deflateRaw"), zlibGzip: of("zlibGzip") });
  }
  return timings;
}

/** Compressed bytes kept as base64 text, since the REST API carries values as JSON strings. */
function storedBytes(compressed: number): number {
  return (compressed * 4) / 3;
}

export function estimateMixL2(
  buckets: CompressionResults["buckets"],
  traffic: MixL2Traffic,
): CompressionResults["mixL2"] {
  const requests = traffic.requests || 1;
  const valueReadsPer1k = (traffic.valueReads / requests) * 1000;
  const valueWritesPer1k = (traffic.valueWrites / requests) * 1000;
  const sampled = BODY_SIZE_BUCKET_NAMES.map((bucket) => ({
    bucket,
    ...(traffic.bodies[bucket] ?? { responses: 0, bytes: 0 }),
  }));
  const sampledResponses = sampled.reduce((sum, item) => sum + item.responses, 0);
  // Per moved value: the bytes each bucket contributes on average (its share × its mean size).
  const perValue = (bucket: BodySizeBucket) => {
    const item = sampled.find((entry) => entry.bucket === bucket);
    return sampledResponses > 0 && item ? item.bytes / sampledResponses : 0;
  };
  const share = (bucket: BodySizeBucket) => {
    const item = sampled.find((entry) => entry.bucket === bucket);
    return sampledResponses > 0 && item ? item.responses / sampledResponses : 0;
  };
  const valuesPer1k = valueReadsPer1k + valueWritesPer1k;
  const bytesPer1k = valuesPer1k * BODY_SIZE_BUCKET_NAMES.reduce((sum, bucket) => sum + perValue(bucket), 0);
  const estimates = COMPRESSION_FORMATS.flatMap((format) =>
    COMPRESSION_THRESHOLDS_BYTES.map((thresholdBytes) => {
      let bytes = 0;
      let cpuUs = 0;
      for (const measured of buckets) {
        const compressed = bucketLowerBytes(measured.bucket) >= thresholdBytes && measured.bytes > 0;
        const packed = format === "gzip" ? measured.gzipBytes : measured.deflateRawBytes;
        const factor = compressed ? storedBytes(packed) / measured.bytes : 1;
        bytes += valuesPer1k * perValue(measured.bucket) * factor;
        if (compressed) {
          const timing = format === "gzip" ? measured.gzip : measured.deflateRaw;
          cpuUs +=
            share(measured.bucket) *
            (valueWritesPer1k * timing.compressUs + valueReadsPer1k * timing.decompressUs);
        }
      }
      return {
        format,
        thresholdBytes,
        bytesPer1k: bytes,
        savedShare: bytesPer1k > 0 ? 1 - bytes / bytesPer1k : 0,
        cpuMsPer1k: cpuUs / 1000,
      };
    }),
  );
  return {
    redisDelayMs: traffic.redisDelayMs,
    requests: traffic.requests,
    valueReadsPer1k,
    valueWritesPer1k,
    sampledBodies: Object.fromEntries(
      sampled
        .filter((item) => item.responses > 0)
        .map(({ bucket, responses, bytes }) => [bucket, { responses, bytes }]),
    ),
    bytesPer1k,
    estimates,
  };
}

export async function runCompression(
  store: MarketplaceStore,
  paths: readonly string[],
  traffic: MixL2Traffic,
  profile: BenchProfile,
): Promise<{ compression: CompressionResults }> {
  const bodies = await renderBodies(store, paths);
  const byBucket = new Map<BodySizeBucket, Uint8Array[]>(BODY_SIZE_BUCKET_NAMES.map((name) => [name, []]));
  for (const body of bodies) byBucket.get(bodySizeBucket(body.length))?.push(body);
  // Discarded: the first calls pay for zlib's and the streams' first use.
  for (const format of COMPRESSION_FORMATS)
    for (let run = 0; run < 20; run++)
      await decompress(await compress(bodies[run % bodies.length] ?? new Uint8Array(1), format), format);

  const timedByBucket = new Map(
    [...byBucket].map(([bucket, items]) => [bucket, spread(items, profile.compressionTimedBodies)] as const),
  );
  const timings = await timeBodies(timedByBucket, profile.compressionRuns);
  const none = { compressUs: 0, decompressUs: 0 };
  const buckets: CompressionResults["buckets"] = [];
  for (const [bucket, items] of byBucket) {
    let gzipBytes = 0;
    let deflateRawBytes = 0;
    for (const body of items) {
      gzipBytes += (await compress(body, "gzip")).length;
      deflateRawBytes += (await compress(body, "deflate-raw")).length;
    }
    const timing = timings.get(bucket);
    buckets.push({
      bucket,
      bodies: items.length,
      bytes: items.reduce((sum, body) => sum + body.length, 0),
      gzipBytes,
      deflateRawBytes,
      timedBodies: timedByBucket.get(bucket)?.length ?? 0,
      gzip: timing?.gzip ?? none,
      deflateRaw: timing?.deflateRaw ?? none,
      zlibGzip: timing?.zlibGzip ?? none,
    });
  }
  return {
    compression: {
      runtime: `Node ${process.version} CompressionStream`,
      bodies: bodies.length,
      runsPerBody: profile.compressionRuns,
      buckets,
      mixL2: estimateMixL2(buckets, traffic),
    },
  };
}
