/**
 * `npm run bench` end to end on the smoke profile (tiny loads, figures meaningless): the
 * harness starts every service itself, runs every scenario (the peers and the mix with Redis
 * on loopback and 20 ms away) with load from a separate process, stops everything, and writes
 * results that match their schema, a Markdown summary and a chart. A real redis-server is
 * required, as for the benchmark itself.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROFILES } from "../../bench/lib/profile";
import { type BenchResults, benchResultsSchema } from "../../bench/lib/results";
import { findVarnishd } from "../../dev/varnish/varnishd";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const smoke = PROFILES.smoke;
let out: string;
let results: BenchResults;
let markdown: string;
let chart: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "bench-smoke-"));
  await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--out", out], {
    cwd: projectRoot,
    timeout: 240_000,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  results = benchResultsSchema.parse(JSON.parse(await readFile(join(out, "latest.json"), "utf8")));
  markdown = await readFile(join(out, "latest.md"), "utf8");
  chart = await readFile(join(out, "latest.svg"), "utf8");
}, 270_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("npm run bench -- --smoke", () => {
  it("records the run: profile, command, machine and time", () => {
    expect(results.profile).toBe("smoke");
    expect(results.command).toBe("npm run bench -- --smoke");
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.redisServer).toMatch(/^\d+\.\d+/);
    expect(Date.parse(results.finishedAt)).toBeGreaterThan(Date.parse(results.startedAt));
  });

  it("drove real load at every Worker, all answered 2xx", () => {
    for (const load of [
      results.l1Ceiling.bare,
      results.l1Ceiling.bareSameHeaders,
      results.l1Ceiling.ours,
      results.peers.naive.load,
      results.peers.honoCache.load,
      results.peers.ours.load,
      results.peersAtRedisDelay.naive.load,
      results.peersAtRedisDelay.honoCache.load,
      results.peersAtRedisDelay.ours.load,
    ]) {
      expect(load.requests).toBeGreaterThan(0);
      expect(load.non2xx).toBe(0);
      expect(load.errors).toBe(0);
    }
    expect(results.mix.requests).toBeGreaterThan(0);
    expect(results.mix.non2xx).toBe(0);
    expect(results.mix.keys).toBe(smoke.mixKeys);
  });

  it("counted Redis at the bridge: one command per naive request, almost none for ours and hono/cache", () => {
    expect(results.peers.naive.redisCommandsPer1k).toBeGreaterThanOrEqual(1000);
    expect(results.peers.honoCache.redisCommandsPer1k).toBe(0);
    expect(results.peers.ours.redisCommandsPer1k).toBeLessThan(results.peers.naive.redisCommandsPer1k);
  });

  it("ran the peers again with every Redis request 20 ms away, and timed ours and naive one request at a time at both distances", () => {
    expect(results.settings.redisDelayMs).toBe(20);
    const { loopback, distant } = results.latencyVsNaive;
    expect([loopback.redisDelayMs, distant.redisDelayMs]).toEqual([0, 20]);
    for (const probe of [
      loopback.oneAtATime.naive,
      loopback.oneAtATime.ours,
      distant.oneAtATime.naive,
      distant.oneAtATime.ours,
    ]) {
      expect(probe.count).toBeGreaterThan(0);
      expect(probe.errors).toBe(0);
      expect(probe.p50).toBeLessThanOrEqual(probe.p99);
    }
    // The naive Worker's one GET per request pays the round trip every time.
    expect(distant.oneAtATime.naive.p50).toBeGreaterThanOrEqual(19);
    expect(loopback.oneAtATime.naive.p50).toBeLessThan(distant.oneAtATime.naive.p50);
    expect(results.peersAtRedisDelay.naive.redisCommandsPer1k).toBeGreaterThanOrEqual(1000);
    expect(distant.throughputVsNaive).toBeCloseTo(
      results.peersAtRedisDelay.ours.rps / results.peersAtRedisDelay.naive.rps,
      10,
    );
    expect(distant.oneAtATime.p50VsNaive).toBeCloseTo(
      distant.oneAtATime.ours.p50 / distant.oneAtATime.naive.p50,
      10,
    );
  });

  it("ran the mix a round trip away and on loopback, and counted its origin fetches and Redis cost", () => {
    expect(results.mix.redisDelayMs).toBe(20);
    // The zero-delay figures are kept beside it.
    expect(results.mixLoopback.redisDelayMs).toBe(0);
    expect(results.mixLoopback.requests).toBeGreaterThan(0);
    expect(results.mixLoopback.non2xx).toBe(0);
    expect(results.mix.originFetchesPer1k).toBeCloseTo(
      (results.mix.originFetches / results.mix.requests) * 1000,
      10,
    );
    // USD 0.20 per 100,000 commands: 2 USD per million requests per command per request.
    expect(results.mix.redisUsdPerMillionRequests).toBeCloseTo(results.mix.redisCommandsPer1k * 0.002, 10);
    expect(results.targets.map((target) => target.name)).toEqual(
      expect.arrayContaining([
        "Mix: origin fetches per 1,000 requests",
        "Latency with Redis 20 ms away: ours p50 vs naive Upstash Worker",
        "Engine vs bentocache, L2 hits",
      ]),
    );
  });

  it("measured compression on the origin's real bodies and estimated it on the mix's L2 traffic", () => {
    const c = results.compression;
    // Every key of the smoke universe answers 200 at the origin.
    expect(c.bodies).toBe(smoke.mixKeys);
    expect(c.buckets.map((bucket) => bucket.bucket)).toEqual(["<1 KiB", "1–4 KiB", "4–16 KiB", ">16 KiB"]);
    expect(c.buckets.reduce((sum, bucket) => sum + bucket.bodies, 0)).toBe(c.bodies);
    const large = c.buckets.filter((bucket) => bucket.bucket !== "<1 KiB" && bucket.bodies > 0);
    expect(large.length).toBeGreaterThan(0);
    for (const bucket of large) {
      // JSON listings compress well; a codec that did nothing would fail here.
      expect(bucket.gzipBytes).toBeLessThan(bucket.bytes / 2);
      expect(bucket.deflateRawBytes).toBeLessThan(bucket.gzipBytes);
      expect(bucket.gzip.compressUs).toBeGreaterThan(0);
    }
    expect(c.mixL2.requests).toBe(results.mix.requests);
    expect(c.mixL2.estimates).toHaveLength(4);
    expect(markdown).toContain("9 · Compression of L2 values");
  });

  it("saw the update at every peer: ours within the freshness bound, the TTL caches only after their TTL", () => {
    const bound = results.settings.l1SyncIntervalMs + 100;
    expect(results.peers.ours.stalenessCapped).toBe(false);
    expect(results.peers.ours.stalenessMs).toBeLessThanOrEqual(bound);
    for (const peer of [results.peers.naive, results.peers.honoCache]) {
      expect(peer.stalenessCapped).toBe(false);
      expect(peer.stalenessMs).toBeGreaterThan(bound);
    }
  });

  it("timed every propagation stage of every event", () => {
    for (const stage of Object.values(results.propagationMs)) {
      expect(stage.count).toBe(smoke.propagationEvents);
      expect(stage.p50).toBeLessThanOrEqual(stage.p99);
      expect(stage.p99).toBeLessThanOrEqual(stage.max);
    }
  });

  it("pushed the events through and counted round trips, measured both engines and the bundles", () => {
    expect(results.events.single.events).toBe(smoke.singleEvents);
    expect(results.redisRoundTripsPerEvent).toBeGreaterThan(0);
    expect(results.engineVsBentocache.ours.l1HitOpsPerSec).toBeGreaterThan(0);
    expect(results.engineVsBentocache.bentocache.l2HitOpsPerSec).toBeGreaterThan(0);
    expect(results.bundle.workerBytes).toBeGreaterThan(results.bundle.workerGzipBytes);
    expect(results.bundle.lambdaBytes).toBeGreaterThan(0);
    expect(results.l1BytesPer1kEntries).toBeGreaterThan(0);
    expect(results.targets.length).toBeGreaterThan(10);
  });

  it("read through every tier in both modes, as configured and before the fix, or says why not", () => {
    const freshness = results.freshnessTiers;
    if (!findVarnishd()) {
      // The bench itself refuses to run without varnishd under CI=true.
      expect(freshness).toEqual({ skipped: expect.stringMatching(/^varnishd not found/) });
      return;
    }
    if ("skipped" in freshness) throw new Error(`freshness skipped: ${freshness.skipped}`);
    expect([freshness.fixed.originVersionParam, freshness.beforeFix.originVersionParam]).toEqual(["_v", ""]);
    for (const mode of [freshness.fixed, freshness.beforeFix]) {
      expect(mode.deliveries).toBeGreaterThan(0);
      expect(mode.events).toBeGreaterThanOrEqual(mode.deliveries);
      expect(mode.classes.map((item) => item.dataClass)).toEqual(["availability", "pricing", "gpu"]);
      for (const item of mode.classes) {
        expect(item.reads, item.dataClass).toBeGreaterThan(0);
        expect(item.errors, item.dataClass).toBe(0);
        expect(item.ageMs.count).toBe(item.reads);
        // Readers went through the front cache: every read has its status.
        expect(Object.keys(item.frontStatus)).not.toContain("none");
      }
    }
    // Bookings and price changes name only 1 s classes at the front: no purge call is spent on them.
    expect(freshness.workersCachePurgeCallsPer1kEvents).toBe(0);
    expect(markdown).toContain("8 · Freshness through every tier");
  });

  it("wrote a Markdown summary with every target and a chart it links to", () => {
    for (const target of results.targets) expect(markdown).toContain(target.name);
    expect(markdown).toContain("](latest.svg)");
    expect(chart.startsWith("<svg")).toBe(true);
    expect(chart).toContain("</svg>");
    expect(chart).not.toMatch(/NaN|undefined|Infinity/);
  });
});
