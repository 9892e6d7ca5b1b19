/**
 * `npm run bench` end to end on the smoke profile (tiny loads, figures meaningless): the
 * harness starts every service itself, runs all seven scenarios with load from a separate
 * process, stops everything, and writes results that match their schema, a Markdown summary
 * and a chart. A real redis-server is required, as for the benchmark itself.
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
    timeout: 150_000,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  results = benchResultsSchema.parse(JSON.parse(await readFile(join(out, "latest.json"), "utf8")));
  markdown = await readFile(join(out, "latest.md"), "utf8");
  chart = await readFile(join(out, "latest.svg"), "utf8");
}, 180_000);

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
