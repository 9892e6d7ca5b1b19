/**
 * Freshness through every tier, end to end on the real local stack: readers through the front
 * Varnish (Workers Cache's role) → the Worker in workerd (L1, then Redis behind the REST
 * bridge) → the back Varnish (CloudFront's role) → the sample origin, while signed bookings,
 * cancellations and price changes arrive. Every read is judged against what had been
 * acknowledged before it was sent (dev/freshness/).
 *
 * Run twice: first with versioned refills off (ORIGIN_VERSION_PARAM=""), where a refill after an
 * event takes CloudFront's pre-event listing back into Redis and listings go stale past their
 * bound — the test must see that, or it could not see anything; then as configured, where no
 * read of any class may be older than its bound.
 */
import { describe, expect, it } from "vitest";
import { FRESHNESS_MARGIN_MS } from "../../../dev/freshness/bounds";
import { formatFreshnessRun } from "../../../dev/freshness/format";
import { type FreshnessRun, measureFreshness } from "../../../dev/freshness/measure";
import { DEFAULT_WEBHOOK_SECRET, type LocalStack, startLocalStack } from "../../../dev/local/stack";
import { parseWorkerConfig } from "../../../workers/config";
import { varnishdForTests } from "../varnish/fixtures";

const varnishd = varnishdForTests("freshness through every tier");

/** The product default, as the stack's Worker runs with it (no L1_SYNC_INTERVAL_MS binding). */
const { syncIntervalMs } = parseWorkerConfig({
  UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1",
  UPSTASH_REDIS_REST_TOKEN: "t",
  ORIGIN_URL: "http://127.0.0.1:1",
});

/**
 * Long enough for the problem to show without versioned refills (a pre-event listing from the
 * back cache is past the 2 s bound about 2 s after the event, and the invalidation that ends it
 * completes some 4 s later), short enough for two stacks in well under 40 s on two cores.
 */
const RUN = { durationMs: 8_000, readers: 6, readPauseMs: 20, eventIntervalMs: 250 } as const;

async function withStack<T>(
  edgeVars: Record<string, string>,
  run: (stack: LocalStack) => Promise<T>,
): Promise<T> {
  const stack = await startLocalStack({
    httpCaches: "varnish",
    ports: { edge: 0, origin: 0, redisRest: 0, events: 0, worker: 0, originCache: 0 },
    // Listings as plain aggregates refilled through the back cache, the path this run is about
    // (views in Redis answer listings without CloudFront: test/workers/listing-views.test.ts).
    edgeVars: { LISTING_VIEWS: "off", ...edgeVars },
  });
  try {
    // Both caches are in the path: clients read the front one, the Worker's origin is the back one.
    expect(stack.httpCaches).toBe("varnish");
    expect(stack.urls.edge).not.toBe(stack.urls.worker);
    expect(stack.urls.originCache).not.toBe(stack.urls.origin);
    return await run(stack);
  } finally {
    await stack.stop();
  }
}

function measure(stack: LocalStack): Promise<FreshnessRun> {
  return measureFreshness({
    edgeUrl: stack.urls.edge,
    originUrl: stack.urls.origin,
    eventsUrl: stack.urls.events,
    webhookSecret: DEFAULT_WEBHOOK_SECRET,
    worker: { url: stack.urls.worker, operatorToken: stack.operatorToken },
    syncIntervalMs,
    ...RUN,
  });
}

const byClass = (run: FreshnessRun, name: string) => {
  const found = run.classes.find((item) => item.dataClass === name);
  if (!found) throw new Error(`no reads of class ${name}`);
  return found;
};

describe.skipIf(!varnishd)(
  "freshness through every tier (front Varnish → Worker → Redis → back Varnish)",
  () => {
    it("without versioned refills, CloudFront's pre-event listings come back and go stale past the bound", {
      timeout: 40_000,
    }, async () => {
      const run = await withStack({ ORIGIN_VERSION_PARAM: "" }, measure);
      console.log(
        formatFreshnessRun(
          `ORIGIN_VERSION_PARAM="" (before the fix), margin ${FRESHNESS_MARGIN_MS} ms`,
          run,
        ).join("\n"),
      );
      for (const item of run.classes) expect(item.errors, item.dataClass).toBe(0);
      expect(run.writer.deliveries).toBeGreaterThan(10);
      const availability = byClass(run, "availability");
      expect(availability.reads).toBeGreaterThan(100);
      expect(availability.beyondBound).toBeGreaterThan(0);
      // Why: refills went unversioned and the back cache answered some of them with its own copy.
      expect(run.counters.versionedOriginFetches).toBe(0);
      expect(run.counters.backCacheHitsAtLeast).toBeGreaterThan(0);
    });

    it("with versioned refills, no read of any class is older than its bound, and a booking shows within it", {
      timeout: 40_000,
    }, async () => {
      const { run, probe } = await withStack({}, async (stack) => {
        const run = await measure(stack);
        // The back cache is a cache in the Worker's path: a direct probe is a miss, then a hit,
        // and the origin sees the path once.
        const path = `/v1/gpus/${run.targets.gpuIds[0]}`;
        const counted = async () =>
          (
            (await (await fetch(`${stack.urls.origin}/_admin/counters`)).json()) as {
              byPath: Record<string, number>;
            }
          ).byPath[path] ?? 0;
        const before = await counted();
        const url = `${stack.urls.originCache}${path}?probe=${Date.now()}`;
        const statuses: Array<string | null> = [];
        for (let index = 0; index < 2; index++) {
          const response = await fetch(url);
          await response.arrayBuffer();
          statuses.push(response.headers.get("x-cache"));
        }
        return { run, probe: { statuses, originSaw: (await counted()) - before } };
      });
      console.log(formatFreshnessRun("ORIGIN_VERSION_PARAM default (versioned refills)", run).join("\n"));

      expect(run.classes.map((item) => item.dataClass)).toEqual(["availability", "pricing", "gpu"]);
      for (const item of run.classes) {
        expect(item.errors, item.dataClass).toBe(0);
        expect(item.reads, item.dataClass).toBeGreaterThan(100);
        expect(item.beyondBound, item.dataClass).toBe(0);
        // Through the front: it answered from its copies, and the Worker behind it answered the rest.
        expect(item.frontStatus.HIT ?? 0, item.dataClass).toBeGreaterThan(0);
        expect(item.workerAnswered, item.dataClass).toBeGreaterThan(0);
      }
      // The comparator sees staleness at all: reads within the front TTL missed a version.
      expect(byClass(run, "gpu").staleReads).toBeGreaterThan(0);
      // Every booking showed through the front within the bound, on its record and on its listing.
      for (const shown of [run.bookings.record, run.bookings.listing]) {
        expect(shown.changes).toBeGreaterThan(0);
        expect(shown.shownWithinBound).toBe(shown.changes);
      }
      // Refills went through the back cache, versioned, and reached the origin behind it.
      expect(run.counters.versionedOriginFetches).toBeGreaterThan(0);
      expect(run.counters.originRequests).toBeGreaterThan(0);
      expect(probe).toEqual({ statuses: ["Miss from cloudfront", "Hit from cloudfront"], originSaw: 1 });
    });
  },
);
