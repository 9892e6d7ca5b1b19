/** The benchmark's own arithmetic: Zipf draws, percentiles, prices, size buckets, the compression estimate, target checks and the reports. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { bodySizeBucket, bucketLowerBytes } from "../../bench/lib/body-size";
import { median } from "../../bench/lib/median";
import { redisUsdPerMillionRequests, UPSTASH_PAYG_USD_PER_100K_COMMANDS } from "../../bench/lib/pricing";
import { renderMarkdownSummary } from "../../bench/lib/report-markdown";
import { renderChartSvg } from "../../bench/lib/report-svg";
import { benchResultsSchema } from "../../bench/lib/results";
import { SAMPLE_RESULTS } from "../../bench/lib/sample-results";
import { checkTargets, freshnessTargets } from "../../bench/lib/targets";
import { seededShuffle, zipfSampler } from "../../bench/lib/zipf";
import { estimateMixL2 } from "../../bench/scenarios/compression";
import { percentiles } from "../../bench/scenarios/propagation";

describe("zipfSampler", () => {
  it("draws rank r with probability ∝ r^-s", () => {
    const draw = zipfSampler(1_000, 1.1, 7);
    const counts = new Array<number>(1_000).fill(0);
    for (let index = 0; index < 200_000; index++) {
      const rank = draw();
      counts[rank] = (counts[rank] ?? 0) + 1;
    }
    const [first = 0, second = 0, , , , , , , , tenth = 0] = counts;
    // P(1)/P(2) = 2^1.1 ≈ 2.14 and P(1)/P(10) = 10^1.1 ≈ 12.6, within sampling noise.
    expect(first / second).toBeGreaterThan(1.95);
    expect(first / second).toBeLessThan(2.35);
    expect(first / tenth).toBeGreaterThan(10.5);
    expect(first / tenth).toBeLessThan(15);
  });

  it("gives the same stream for the same seed, and refuses a bad universe", () => {
    const a = zipfSampler(100, 1.1, 3);
    const b = zipfSampler(100, 1.1, 3);
    expect(Array.from({ length: 50 }, a)).toEqual(Array.from({ length: 50 }, b));
    expect(() => zipfSampler(0, 1.1, 1)).toThrow(RangeError);
    expect(() => zipfSampler(10, 0, 1)).toThrow(RangeError);
  });

  it("seededShuffle permutes without losing or repeating items", () => {
    const items = Array.from({ length: 500 }, (_, index) => index);
    const shuffled = seededShuffle(items, 11);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(seededShuffle(items, 11)).toEqual(shuffled);
  });
});

describe("percentiles", () => {
  it("takes nearest-rank samples", () => {
    const samples = Array.from({ length: 200 }, (_, index) => index + 1);
    expect(percentiles(samples)).toEqual({ count: 200, p50: 100, p99: 198, max: 200 });
    expect(percentiles([7])).toEqual({ count: 1, p50: 7, p99: 7, max: 7 });
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});

describe("median", () => {
  it("is the middle value, the mean of the two middle ones for an even count, 0 for none; input left as given", () => {
    const values = [3, 1, 2];
    expect(median(values)).toBe(2);
    expect(values).toEqual([3, 1, 2]);
    expect(median([0.9, 1.4, 1.1, 0.7])).toBeCloseTo(1.0);
    expect(median([5])).toBe(5);
    expect(median([])).toBe(0);
  });
});

describe("npm run bench options", () => {
  it("refuses a bad --redis-delay-ms with the error and the usage, before it starts anything", async () => {
    const run = promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "--redis-delay-ms", "soon"],
      {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        timeout: 30_000,
      },
    );
    const failed = await run.then(
      () => undefined,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain(
      "--redis-delay-ms must be a non-negative number of milliseconds, got 'soon'",
    );
    expect(failed?.stderr).toContain("[--redis-delay-ms <n>, default 20]");
    expect(failed?.stdout).not.toContain("starting services");
  }, 40_000);
});

describe("prices and sizes", () => {
  it("turns Redis commands per 1,000 requests into USD per million at 0.20 per 100,000 commands", () => {
    expect(UPSTASH_PAYG_USD_PER_100K_COMMANDS).toBe(0.2);
    // One command per request (the naive Worker): 1,000,000 commands = USD 2.
    expect(redisUsdPerMillionRequests(1000)).toBeCloseTo(2, 10);
    expect(redisUsdPerMillionRequests(10)).toBeCloseTo(0.02, 10);
    expect(redisUsdPerMillionRequests(0)).toBe(0);
  });

  it("puts each body in its size bucket, the thresholds on the edges", () => {
    expect([0, 1023, 1024, 4095, 4096, 16_383, 16_384, 1_000_000].map(bodySizeBucket)).toEqual([
      "<1 KiB",
      "<1 KiB",
      "1–4 KiB",
      "1–4 KiB",
      "4–16 KiB",
      "4–16 KiB",
      ">16 KiB",
      ">16 KiB",
    ]);
    expect(
      ["<1 KiB", "1–4 KiB", "4–16 KiB", ">16 KiB"].map((name) => bucketLowerBytes(name as never)),
    ).toEqual([0, 1024, 4096, 16_384]);
  });
});

describe("compression estimate", () => {
  const timing = (compressUs: number, decompressUs: number) => ({ compressUs, decompressUs });
  const buckets = [
    // Small bodies: half their size compressed; large ones a quarter (gzip) and a fifth (deflate-raw).
    {
      bucket: "<1 KiB" as const,
      bodies: 10,
      bytes: 5_000,
      gzipBytes: 2_500,
      deflateRawBytes: 2_400,
      timedBodies: 2,
      gzip: timing(50, 20),
      deflateRaw: timing(40, 10),
      zlibGzip: timing(20, 5),
    },
    {
      bucket: "1–4 KiB" as const,
      bodies: 10,
      bytes: 20_000,
      gzipBytes: 6_000,
      deflateRawBytes: 5_400,
      timedBodies: 2,
      gzip: timing(100, 40),
      deflateRaw: timing(90, 30),
      zlibGzip: timing(40, 10),
    },
    {
      bucket: "4–16 KiB" as const,
      bodies: 10,
      bytes: 80_000,
      gzipBytes: 20_000,
      deflateRawBytes: 16_000,
      timedBodies: 2,
      gzip: timing(300, 100),
      deflateRaw: timing(280, 90),
      zlibGzip: timing(120, 30),
    },
    {
      bucket: ">16 KiB" as const,
      bodies: 0,
      bytes: 0,
      gzipBytes: 0,
      deflateRawBytes: 0,
      timedBodies: 0,
      gzip: timing(0, 0),
      deflateRaw: timing(0, 0),
      zlibGzip: timing(0, 0),
    },
  ];
  // 2,000 requests, 40 values read and 10 written: 25 values per 1,000 requests.
  const traffic = {
    redisDelayMs: 20,
    requests: 2_000,
    valueReads: 40,
    valueWrites: 10,
    bodies: {
      "<1 KiB": { responses: 50, bytes: 25_000 },
      "1–4 KiB": { responses: 30, bytes: 60_000 },
      "4–16 KiB": { responses: 20, bytes: 160_000 },
    },
  };

  it("weighs the mix's L2 values by the sizes it moved, compressed values as base64, CPU on writes and reads", () => {
    const estimate = estimateMixL2(buckets, traffic);
    expect(estimate.valueReadsPer1k).toBe(20);
    expect(estimate.valueWritesPer1k).toBe(5);
    // 245,000 bytes over 100 sampled answers: 2,450 B a value, 25 values per 1,000 requests.
    expect(estimate.bytesPer1k).toBeCloseTo(61_250, 6);
    const gzipAt1k = estimate.estimates.find((e) => e.format === "gzip" && e.thresholdBytes === 1024);
    const gzipAt4k = estimate.estimates.find((e) => e.format === "gzip" && e.thresholdBytes === 4096);
    // ≥ 1 KiB: 1–4 KiB kept at 0.3 × 4/3, 4–16 KiB at 0.25 × 4/3; < 1 KiB as it is.
    expect(gzipAt1k?.bytesPer1k).toBeCloseTo(25 * (250 + 600 * 0.4 + 1_600 * (1 / 3)), 6);
    // ≥ 4 KiB: only the 4–16 KiB bucket.
    expect(gzipAt4k?.bytesPer1k).toBeCloseTo(25 * (250 + 600 + 1_600 * (1 / 3)), 6);
    expect(gzipAt1k?.savedShare).toBeCloseTo(1 - (gzipAt1k?.bytesPer1k ?? 0) / 61_250, 10);
    // CPU: shares 0.3 (1–4 KiB) and 0.2 (4–16 KiB) of 5 writes (compress) and 20 reads (decompress).
    expect(gzipAt1k?.cpuMsPer1k).toBeCloseTo(
      (0.3 * (5 * 100 + 20 * 40) + 0.2 * (5 * 300 + 20 * 100)) / 1000,
      10,
    );
    expect(gzipAt4k?.cpuMsPer1k).toBeCloseTo((0.2 * (5 * 300 + 20 * 100)) / 1000, 10);
    expect(estimate.estimates.map((e) => `${e.format}@${e.thresholdBytes}`)).toEqual([
      "gzip@1024",
      "gzip@4096",
      "deflate-raw@1024",
      "deflate-raw@4096",
    ]);
  });

  it("moves nothing and saves nothing when the mix read and wrote no L2 values", () => {
    const idle = estimateMixL2(buckets, { ...traffic, valueReads: 0, valueWrites: 0, bodies: {} });
    expect(idle.bytesPer1k).toBe(0);
    for (const e of idle.estimates) expect([e.bytesPer1k, e.savedShare, e.cpuMsPer1k]).toEqual([0, 0, 0]);
  });
});

describe("targets and reports", () => {
  const { targets: _given, ...figures } = benchResultsSchema.parse(SAMPLE_RESULTS);

  it("checks each target against its bound, the edge ones against L1_SYNC_INTERVAL_MS + 100", () => {
    const byName = (results: typeof figures) =>
      Object.fromEntries(checkTargets(results).map((target) => [target.name, target.met]));
    const edgeBound = figures.settings.l1SyncIntervalMs + 100;
    const atBound = byName({
      ...figures,
      l1HitVsBareThroughputRatio: 0.9,
      propagationMs: { ...figures.propagationMs, edge: { count: 1, p50: 1, p99: edgeBound, max: edgeBound } },
    });
    expect(atBound["L1 hit throughput vs bare Hono"]).toBe(true);
    expect(atBound["Propagation p99: edge"]).toBe(true);
    const past = byName({
      ...figures,
      l1HitVsBareThroughputRatio: 0.89,
      propagationMs: {
        ...figures.propagationMs,
        edge: { count: 1, p50: 1, p99: edgeBound + 1, max: edgeBound + 1 },
      },
    });
    expect(past["L1 hit throughput vs bare Hono"]).toBe(false);
    expect(past["Propagation p99: edge"]).toBe(false);
    const capped = byName({
      ...figures,
      peers: { ...figures.peers, ours: { ...figures.peers.ours, stalenessMs: 10, stalenessCapped: true } },
    });
    expect(capped["Staleness after an update"]).toBe(false);
  });

  it("holds the issue's done-when: the mix's hits, Redis commands and origin fetches, latency at distance, L2 vs bentocache", () => {
    const byName = (results: typeof figures) =>
      Object.fromEntries(checkTargets(results).map((target) => [target.name, target.met]));
    const latency = "Latency with Redis 20 ms away: ours p50 vs naive Upstash Worker";
    const distant = figures.latencyVsNaive.distant;
    const at = (p50VsNaive: number, mix: Partial<typeof figures.mix>, l2HitRatio: number) =>
      byName({
        ...figures,
        mix: { ...figures.mix, ...mix },
        latencyVsNaive: {
          ...figures.latencyVsNaive,
          distant: { ...distant, oneAtATime: { ...distant.oneAtATime, p50VsNaive } },
        },
        engineVsBentocache: { ...figures.engineVsBentocache, l2HitRatio },
      });
    const names = [
      "Mix: overall hit ratio",
      "Mix: Redis commands per 1,000 requests",
      "Mix: origin fetches per 1,000 requests",
      latency,
      "Engine vs bentocache, L2 hits",
    ];
    const atBound = at(0.1, { overallHitRatio: 0.995, redisCommandsPer1k: 10, originFetchesPer1k: 2 }, 1);
    expect(names.map((name) => atBound[name])).toEqual([true, true, true, true, true]);
    const past = at(
      0.101,
      { overallHitRatio: 0.9949, redisCommandsPer1k: 10.01, originFetchesPer1k: 2.01 },
      0.99,
    );
    expect(names.map((name) => past[name])).toEqual([false, false, false, false, false]);

    // A ratio with nothing behind it is no pass: a failed probe, or no distance at all.
    const failedProbe = byName({
      ...figures,
      latencyVsNaive: {
        ...figures.latencyVsNaive,
        distant: {
          ...distant,
          oneAtATime: { ...distant.oneAtATime, naive: { ...distant.oneAtATime.naive, errors: 1 } },
        },
      },
    });
    expect(failedProbe[latency]).toBe(false);
    const noDistance = checkTargets({
      ...figures,
      latencyVsNaive: { ...figures.latencyVsNaive, distant: { ...distant, redisDelayMs: 0 } },
    }).find((target) => target.name.startsWith("Latency with Redis"));
    expect(noDistance).toMatchObject({
      name: "Latency with Redis 0 ms away: ours p50 vs naive Upstash Worker",
      met: false,
    });
    // The propagation bound is the sync interval + 100 ms, kept beside the new ones.
    expect(checkTargets(figures).find((target) => target.name === "Propagation p99: edge")?.target).toBe(
      `≤ ${figures.settings.l1SyncIntervalMs + 100} ms`,
    );
  });

  it("holds every class read through every tier to 0 reads beyond its bound, and a run not made to a miss", () => {
    const freshness = figures.freshnessTiers;
    if ("skipped" in freshness) throw new Error("the sample results ran the freshness scenario");
    const met = freshnessTargets(freshness);
    expect(met.map((target) => [target.name, target.met])).toEqual([
      ["Freshness through every tier: availability reads beyond the bound", true],
      ["Freshness through every tier: pricing reads beyond the bound", true],
      ["Freshness through every tier: gpu reads beyond the bound", true],
    ]);
    // The run before the fix is reported beside it, not held to the target.
    expect(met[0]?.measured).toMatch(/before the fix: 610 of 1,400/);
    const [availability, ...others] = freshness.fixed.classes;
    if (!availability) throw new Error("no availability class in the sample");
    const oneBeyond = freshnessTargets({
      ...freshness,
      fixed: { ...freshness.fixed, classes: [{ ...availability, beyondBound: 1 }, ...others] },
    });
    expect(oneBeyond.map((target) => target.met)).toEqual([false, true, true]);
    const unread = freshnessTargets({
      ...freshness,
      fixed: { ...freshness.fixed, classes: [{ ...availability, reads: 0, beyondBound: 0 }, ...others] },
    });
    expect(unread[0]?.met).toBe(false);
    expect(freshnessTargets({ skipped: "varnishd not found" })).toEqual([
      expect.objectContaining({ met: false, measured: "not run: varnishd not found" }),
    ]);
  });

  it("renders the same Markdown and SVG for the same results, with the missed targets marked", () => {
    const results = { ...figures, targets: checkTargets(figures) };
    const markdown = renderMarkdownSummary(results, { chartFile: "latest.svg" });
    expect(renderMarkdownSummary(results, { chartFile: "latest.svg" })).toBe(markdown);
    expect(renderChartSvg(results)).toBe(renderChartSvg(results));
    const missed = results.targets.filter((target) => !target.met);
    expect(missed.length).toBeGreaterThan(0);
    for (const target of missed) expect(markdown).toMatch(new RegExp(`${escapeRegExp(target.name)}.*❌`));
  });

  it("reports ours vs naive at both Redis distances, the mix's origin fetches and Redis cost, and the compression measurement", () => {
    const results = { ...figures, targets: checkTargets(figures) };
    const markdown = renderMarkdownSummary(results, { chartFile: "latest.svg" });
    // Loopback and 20 ms rows: req/s ours / naive, throughput, p50/p99 under load, one at a time.
    expect(markdown).toContain(
      "| loopback | 4,600 / 700 | 6.57× | 0.15× | 0.17× | 0.60 ms / 1.20 ms | 0.50× | 0.45× |",
    );
    expect(markdown).toContain(
      "| 20 ms | 4,500 / 620 | 7.26× | 0.14× | 0.15× | 0.60 ms / 21.40 ms | 0.03× | 0.04× |",
    );
    expect(markdown).toContain("| naive Upstash GET | 620 | 78.0 ms | 160.0 ms | 1,000.0 | USD 2.00 |");
    // Both distances, the targets' run named; Redis cost at USD 2 per million commands, origin fetches per 1,000.
    expect(markdown).toContain("the targets hold the run with Redis 20 ms away");
    expect(markdown).toContain("| loopback | 45,000 | 98.60% | 1.10% | 99.70% | 25.1 | USD 0.050 | 2.67 |");
    expect(markdown).toContain("| 20 ms | 43,500 | 98.50% | 1.20% | 99.70% | 24.6 | USD 0.049 | 2.99 |");
    expect(markdown).toContain("**9 · Compression of L2 values** (measured, not implemented)");
    expect(markdown).toMatch(/\| gzip \| ≥ 1\.0 KiB \| 16\.6 KiB \| 66\.50% \|/);
    const svg = renderChartSvg(results);
    expect(svg).toContain("origin fetches per 1,000: 2.99");
  });

  it("escapes text in the chart", () => {
    const svg = renderChartSvg({
      ...figures,
      targets: [],
      machine: { ...figures.machine, cpuModel: 'A <fast> & "odd" CPU' },
    });
    expect(svg).toContain("&lt;fast&gt; &amp;");
    expect(svg).not.toContain("<fast>");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
