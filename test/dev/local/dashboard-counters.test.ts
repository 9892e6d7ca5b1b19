/**
 * The dashboard's numbers without a browser: the event app's answers counted per type and
 * status with their propagation (a manual clock), the snapshot gathered from the stack's parts
 * (fakes' records, queued retry messages per provider, the Worker's stats over HTTP), the
 * Varnish counters as varnishstat prints them, and the rates, ratios and tiles the page
 * derives from a run of snapshots.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, inject, it } from "vitest";
import { systemClock } from "../../../core/time/clock";
import {
  createEventCounts,
  PROPAGATION_WINDOW_MS,
  percentile,
} from "../../../dev/local/dashboard/event-counts";
import { chartSeries, classRows, columnsSum, tiles } from "../../../dev/local/dashboard/page/series";
import { createSnapshotReader, type SnapshotSources } from "../../../dev/local/dashboard/snapshot";
import type { DashboardSnapshot, WorkerTier } from "../../../dev/local/dashboard/snapshot-types";
import { readVarnishCounters, VarnishStatsError } from "../../../dev/local/dashboard/varnish-stats";
import { startEventsServer } from "../../../dev/local/events-server";
import { serveApp } from "../../../dev/support/serve-app";
import type { PurgeDispatcher } from "../../../lambdas/events/app";
import { parseEventsConfig } from "../../../lambdas/events/config";
import type { PurgeRetry } from "../../../lambdas/purge/purger";
import { encodeRetryMessage, retryMessage } from "../../../lambdas/retry/message";
import { EventFactory } from "../../support/event-fixtures";

function manualClock(start: number) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe("event counts", () => {
  it("counts each answered event by type and status, and the applied ones' propagation", () => {
    const clock = manualClock(Date.parse("2026-03-01T10:00:00.000Z"));
    const counts = createEventCounts(clock);
    const occurredAt = clock.now() - 120;
    counts.record(202, [
      { type: "booking.created", status: "applied", occurredAt },
      { type: "market.stats_updated", status: "applied", occurredAt: occurredAt - 80 },
      { type: "booking.created", status: "duplicate", occurredAt },
    ]);
    counts.record(401);
    counts.record(202, [{ type: "gpu.upserted", status: "stale", occurredAt }]);
    const snapshot = counts.snapshot();
    expect(snapshot.total).toEqual({ applied: 2, stale: 1, duplicate: 1 });
    expect(snapshot.byType).toEqual({
      "booking.created": { applied: 1, stale: 0, duplicate: 1 },
      "market.stats_updated": { applied: 1, stale: 0, duplicate: 0 },
      "gpu.upserted": { applied: 0, stale: 1, duplicate: 0 },
    });
    expect(snapshot.deliveries).toEqual({ "202": 2, "401": 1 });
    // Only applied events have a propagation: 120 and 200 ms.
    expect(snapshot.propagation).toMatchObject({ count: 2, p50Ms: 120, p99Ms: 200, maxMs: 200 });
  });

  it("reports propagation over the last minute only, and a sender's clock ahead of ours as zero", () => {
    const clock = manualClock(1_000_000);
    const counts = createEventCounts(clock);
    counts.record(202, [{ type: "gpu.upserted", status: "applied", occurredAt: clock.now() - 5_000 }]);
    clock.advance(PROPAGATION_WINDOW_MS + 1);
    expect(counts.snapshot().propagation).toMatchObject({ count: 0, p50Ms: null, p99Ms: null });
    counts.record(202, [{ type: "gpu.upserted", status: "applied", occurredAt: clock.now() + 3_000 }]);
    expect(counts.snapshot().propagation).toMatchObject({ count: 1, p50Ms: 0 });
    // The totals keep counting what left the window.
    expect(counts.snapshot().total.applied).toBe(2);
  });

  it("takes percentiles by nearest rank", () => {
    const hundred = Array.from({ length: 100 }, (_, index) => index + 1);
    expect([percentile(hundred, 0.5), percentile(hundred, 0.99), percentile([7], 0.99)]).toEqual([50, 99, 7]);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe("the events server's counts", () => {
  const secret = `whsec_${Buffer.from("dashboard counters test secret!").toString("base64")}`;
  const noPurges: PurgeDispatcher = {
    dispatch: async (results) => ({ settled: results.map((r) => r.event) }),
  };
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it("records every delivery's status, and each accepted event's type, status and occurredAt", async () => {
    const clock = manualClock(Date.now());
    const counts = createEventCounts(clock);
    const server = await startEventsServer(
      parseEventsConfig({
        UPSTASH_REDIS_REST_URL: inject("emulatorBridgeUrl"),
        UPSTASH_REDIS_REST_TOKEN: inject("bridgeToken"),
        WEBHOOK_SECRETS: secret,
        KEY_PREFIX: `dash-${Date.now()}`,
      }),
      { purges: noPurges, counts, logger: { info: () => {}, warn: () => {}, error: () => {} } },
    );
    closers.push(server.close);
    const { raw } = new EventFactory().gpuUpserted();
    const body = JSON.stringify(raw);
    const deliver = async (signed: boolean) => {
      const id = `msg_${Math.random().toString(36).slice(2)}`;
      const now = new Date();
      const response = await fetch(server.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signed ? new Webhook(secret).sign(id, now, body) : "v1,bm90IGEgc2lnbmF0dXJl",
        },
        body,
      });
      await response.text();
      return response.status;
    };
    expect([await deliver(true), await deliver(true), await deliver(false)]).toEqual([202, 202, 401]);
    const snapshot = counts.snapshot();
    expect(snapshot.deliveries).toEqual({ "202": 2, "401": 1 });
    expect(snapshot.byType).toEqual({ "gpu.upserted": { applied: 1, stale: 0, duplicate: 1 } });
    // The fixture's occurredAt is in the past: the delay is the manual clock's distance from it.
    expect(snapshot.propagation.p50Ms).toBe(clock.now() - Date.parse(raw.occurredAt));
  });
});

const workerStats = {
  hits: { l1: 6, l2: 2, origin: 1 },
  misses: { l1: 4, l2: 1 },
  staleServed: { revalidating: 1, error: 0 },
  negativeHits: 1,
  bypass: 0,
  originErrors: 0,
  redisCommands: 9,
  redisErrors: 0,
  answers: { gpu: { L1: 6, L2: 2, ORIGIN: 1, STALE: 1, BYPASS: 0 } },
};

async function serveWorkerStats(token: string) {
  const app = new Hono();
  app.get("/_cache/stats", (c) =>
    c.req.header("authorization") === `Bearer ${token}` ? c.json(workerStats) : c.json({ error: "no" }, 401),
  );
  return serveApp(app);
}

function retryBody(provider: "cloudflare" | "cloudfront"): string {
  const retry: PurgeRetry =
    provider === "cloudflare"
      ? { provider, zoneId: "z", tags: ["gpu:gpu-1"], batchKey: "evt-1" }
      : { provider, distributionId: "E1", paths: ["/v1/gpus/gpu-1"], batchKey: "evt-1" };
  return encodeRetryMessage(retryMessage(retry, ["evt-1"], "deferred", systemClock));
}

describe("the snapshot", () => {
  function sources(
    overrides: Partial<SnapshotSources> & Pick<SnapshotSources, "workerStats">,
  ): SnapshotSources {
    const queues: Record<string, string[]> = {
      "purge-retry": [retryBody("cloudfront"), retryBody("cloudfront"), "not json"],
      "purge-retry-dlq": [retryBody("cloudflare")],
    };
    return {
      clock: { now: () => 1_700_000_000_000 },
      redisUsage: { requests: 5, commands: 12 },
      eventCounts: createEventCounts(systemClock),
      cloudflareFake: {
        purges: [{ time: "", zoneId: "z", id: "1", kind: "tags", items: ["a"] }],
        requests: [
          { zoneId: "z", status: 429 },
          { zoneId: "z", status: 200 },
        ],
      },
      cloudfrontFake: {
        purges: [],
        requests: [
          { method: "POST", path: "/2020-05-31/distribution/E1/invalidation", status: 400 },
          { method: "GET", path: "/2020-05-31/distribution/E1/invalidation/I1", status: 200 },
        ],
      },
      workersCachePurges: () => ({ sent: 3, accepted: 2 }),
      retryQueues: {
        sqs: { messages: (name) => (queues[name] ?? []).map((body) => ({ body }) as never) },
        queue: "purge-retry",
        deadLetterQueue: "purge-retry-dlq",
      },
      varnish: {
        front: async () => ({ clientRequests: 10, hits: 7, misses: 3, hitPass: 0, hitMiss: 0 }),
        back: async () => ({ unavailable: "http caches: none (turned off)" }),
      },
      ...overrides,
    };
  }

  it("gathers every part: the Worker's tier, Redis use, purges per provider and what is queued", async () => {
    const served = await serveWorkerStats("op");
    try {
      const snapshot = await createSnapshotReader(
        sources({ workerStats: { url: `${served.url}/_cache/stats`, operatorToken: "op" } }),
      )();
      expect(snapshot.at).toBe(1_700_000_000_000);
      expect(snapshot.tiers.worker).toEqual({
        lookups: 12,
        l1Hits: 6,
        l1Stale: 1,
        negativeHits: 1,
        l1Misses: 4,
        l2Hits: 2,
        l2Misses: 1,
        originFetches: 1,
        bypass: 0,
        originErrors: 0,
        redisCommands: 9,
        redisErrors: 0,
        byClass: workerStats.answers,
      });
      expect(snapshot.tiers.front).toMatchObject({ hits: 7, misses: 3 });
      expect(snapshot.tiers.back).toEqual({ unavailable: "http caches: none (turned off)" });
      expect(snapshot.redis).toEqual({ requests: 5, commands: 12 });
      expect(snapshot.purges).toEqual({
        "workers-cache": { sent: 3, accepted: 2, queued: 0, deadLettered: 0 },
        // The status read is not a purge call.
        cloudfront: { sent: 1, accepted: 0, queued: 2, deadLettered: 0 },
        cloudflare: { sent: 2, accepted: 1, queued: 0, deadLettered: 1 },
      });
      expect(snapshot.poisonMessages).toBe(1);
    } finally {
      await served.close();
    }
  });

  it("reports a Worker it cannot read, and a Varnish reader that throws, as unavailable with the reason", async () => {
    const served = await serveWorkerStats("op");
    try {
      const snapshot = await createSnapshotReader(
        sources({
          workerStats: { url: `${served.url}/_cache/stats`, operatorToken: "wrong" },
          varnish: {
            front: async () => {
              throw new VarnishStatsError("varnishstat -n /tmp/x failed: gone");
            },
            back: async () => ({ unavailable: "none" }),
          },
        }),
      )();
      expect(snapshot.tiers.worker).toEqual({
        unavailable: expect.stringMatching(/\/_cache\/stats answered 401/),
      });
      expect(snapshot.tiers.front).toEqual({ unavailable: "varnishstat -n /tmp/x failed: gone" });
    } finally {
      await served.close();
    }
  });
});

describe("varnishstat", () => {
  function fakeVarnishstat(json: string): string {
    const dir = mkdtempSync(join(tmpdir(), "varnishstat-"));
    writeFileSync(join(dir, "out.json"), json);
    const binary = join(dir, "varnishstat");
    writeFileSync(binary, `#!/bin/sh\necho "$@" > "${dir}/args"\ncat "${dir}/out.json"\n`);
    chmodSync(binary, 0o755);
    return binary;
  }
  const counter = (value: number) => ({ description: "", flag: "c", format: "i", value });
  const fields = {
    "MAIN.client_req": counter(9),
    "MAIN.cache_hit": counter(5),
    "MAIN.cache_miss": counter(3),
    "MAIN.cache_hitpass": counter(1),
    "MAIN.cache_hitmiss": counter(0),
  };

  it("reads the hit and miss counters from Varnish 7's and Varnish 6's JSON", async () => {
    const expected = { clientRequests: 9, hits: 5, misses: 3, hitPass: 1, hitMiss: 0 };
    const seven = fakeVarnishstat(JSON.stringify({ version: 1, timestamp: "t", counters: fields }));
    expect(await readVarnishCounters(seven, "/tmp/work")).toEqual(expected);
    const six = fakeVarnishstat(JSON.stringify({ timestamp: "t", ...fields }));
    expect(await readVarnishCounters(six, "/tmp/work")).toEqual(expected);
  });

  it("names the counter it did not find", async () => {
    const { "MAIN.cache_miss": _missing, ...rest } = fields;
    const binary = fakeVarnishstat(JSON.stringify({ version: 1, counters: rest }));
    await expect(readVarnishCounters(binary, "/tmp/work")).rejects.toThrow(/printed no MAIN\.cache_miss/);
  });
});

describe("what the page draws", () => {
  const worker = (lookups: number, l1: number, commands: number): WorkerTier => ({
    lookups,
    l1Hits: l1,
    l1Stale: 0,
    negativeHits: 0,
    l1Misses: lookups - l1,
    l2Hits: 0,
    l2Misses: lookups - l1,
    originFetches: lookups - l1,
    bypass: 0,
    originErrors: 0,
    redisCommands: commands,
    redisErrors: 0,
    byClass: { gpu: { L1: l1, L2: 0, ORIGIN: lookups - l1, STALE: 0, BYPASS: 0 } },
  });
  const zero = { sent: 0, accepted: 0, queued: 0, deadLettered: 0 };
  function snapshot(at: number, tier: WorkerTier | { unavailable: string }, applied = 0): DashboardSnapshot {
    return {
      at,
      tiers: { front: { unavailable: "none" }, worker: tier, back: { unavailable: "none" } },
      redis: { requests: 0, commands: "lookups" in tier ? tier.lookups * 2 : 0 },
      events: {
        total: { applied, stale: 0, duplicate: 0 },
        byType: {},
        deliveries: {},
        propagation: { windowMs: 60_000, count: 0, p50Ms: null, p99Ms: null, maxMs: null },
      },
      purges: { "workers-cache": zero, cloudfront: { ...zero, queued: 2 }, cloudflare: zero },
      poisonMessages: 0,
    };
  }

  it("turns totals into per-second rates and windowed ratios, with gaps where a value is unknown", () => {
    const history = [
      snapshot(1_000, worker(0, 0, 0)),
      snapshot(2_000, worker(10, 5, 0)),
      snapshot(3_000, { unavailable: "worker down" }),
      snapshot(4_000, worker(30, 25, 0), 4),
      // Restarted: its counters start again from zero.
      snapshot(5_000, worker(2, 1, 0), 4),
    ];
    const series = chartSeries(history);
    expect(series.requests.columns[0]).toEqual([1, 2, 3, 4, 5]);
    expect(series.requests.columns[2]).toEqual([null, 10, null, null, null]);
    // Over the window ending at each sample (all of them here): L1 answers / lookups.
    expect(series.hitRatio.columns[2]).toEqual([null, 50, null, 83.33333333333333, 50]);
    // Two bridge commands per lookup.
    expect(series.redis.columns[1]).toEqual([null, 2000, null, 2000, 2000]);
    expect(series.events.columns[1]).toEqual([null, 0, 0, 4, 0]);
    expect(series.purges.columns[2]).toEqual([0, 0, 0, 0, 0]);
    expect(series.purges.columns[4]).toEqual([2, 2, 2, 2, 2]);
    expect(columnsSum(series.events.columns)).toBe(4);
  });

  it("fills the tiles and the per-class rows from the latest snapshot", () => {
    const history = [snapshot(1_000, worker(10, 4, 0)), snapshot(3_000, worker(30, 24, 0), 3)];
    expect(tiles(history[1] as DashboardSnapshot)).toMatchObject({
      workerRequests: 30,
      l1HitRatio: 80,
      redisPer1k: 2000,
      frontHitRatio: null,
      eventsApplied: 3,
      purgesQueued: 2,
    });
    expect(classRows(history)).toEqual([
      { dataClass: "gpu", answers: 30, perSecond: 10, l1: 80, l2: 0, origin: 20 },
    ]);
  });
});
