/**
 * 8. Freshness through every tier: readers through the front cache (Workers Cache's role) of
 * the real local stack with Varnish, the Worker in workerd, Redis, the back cache (CloudFront's
 * role) and the origin, while signed bookings, cancellations and price changes arrive at a
 * steady rate; every read is judged against what had been acknowledged before it was sent
 * (dev/freshness/). Run twice, each on a stack of its own: as configured, and with versioned
 * refills off (ORIGIN_VERSION_PARAM=""), the state before the CloudFront refill fix.
 *
 * Its own stack, not bench/lib/services.ts: that one runs Workers through Miniflare with no
 * HTTP cache around them, and this scenario is about those caches.
 */
import { DEFAULT_ORIGIN_VERSION_PARAM } from "../../core/tag-versions";
import { FRESHNESS_MARGIN_MS } from "../../dev/freshness/bounds";
import { type FreshnessRun, measureFreshness } from "../../dev/freshness/measure";
import {
  DEFAULT_CLOUDFRONT_COMPLETION_DELAY_MS,
  DEFAULT_WEBHOOK_SECRET,
  type LocalStack,
  startLocalStack,
} from "../../dev/local/stack";
import { findVarnishd, VARNISH_INSTALL_HINT } from "../../dev/varnish/varnishd";
import type { BenchProfile } from "../lib/profile";
import type { BenchResults, FreshnessMode } from "../lib/results";
import { L1_SYNC_INTERVAL_MS } from "../lib/services";

const READ_PAUSE_MS = 20;

export interface FreshnessHooks {
  /** Called with each stack's stop once it runs, so a signal can stop it (varnishd runs detached). */
  readonly onStack?: (stop: (() => Promise<void>) | undefined) => void;
}

/** Purge calls per 1,000 events the writer delivered; 0 when it delivered none. */
function per1k(calls: number, run: FreshnessRun): number {
  return run.writer.events === 0 ? 0 : (calls / run.writer.events) * 1000;
}

function mode(run: FreshnessRun, originVersionParam: string): FreshnessMode {
  return {
    originVersionParam,
    durationSeconds: run.durationMs / 1000,
    readers: run.readers,
    eventIntervalMs: run.writer.intervalMs,
    deliveries: run.writer.deliveries,
    events: run.writer.events,
    deliveriesPerSecond: run.writer.deliveriesPerSecond,
    eventsPerSecond: run.writer.eventsPerSecond,
    classes: run.classes.map((item) => ({ ...item })),
    bookings: run.bookings,
    backCache: run.counters,
  };
}

async function measureOn(
  profile: BenchProfile,
  edgeVars: Record<string, string>,
  hooks: FreshnessHooks,
): Promise<{ run: FreshnessRun; workersCachePurgeCalls: number }> {
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      httpCaches: "varnish",
      ports: { edge: 0, origin: 0, redisRest: 0, events: 0, worker: 0, originCache: 0 },
      // The interval the bound is computed from, given explicitly so the two cannot drift apart.
      edgeVars: { L1_SYNC_INTERVAL_MS: String(L1_SYNC_INTERVAL_MS), ...edgeVars },
    });
    hooks.onStack?.(stack.stop);
    const run = await measureFreshness({
      edgeUrl: stack.urls.edge,
      originUrl: stack.urls.origin,
      eventsUrl: stack.urls.events,
      webhookSecret: DEFAULT_WEBHOOK_SECRET,
      worker: { url: stack.urls.worker, operatorToken: stack.operatorToken },
      syncIntervalMs: L1_SYNC_INTERVAL_MS,
      durationMs: profile.freshnessSeconds * 1000,
      readers: profile.freshnessReaders,
      readPauseMs: READ_PAUSE_MS,
      eventIntervalMs: profile.freshnessEventIntervalMs,
    });
    return { run, workersCachePurgeCalls: stack.workersCachePurgeCalls() };
  } finally {
    hooks.onStack?.(undefined);
    await stack?.stop();
  }
}

export async function runFreshnessTiers(
  profile: BenchProfile,
  hooks: FreshnessHooks = {},
): Promise<Pick<BenchResults, "freshnessTiers">> {
  if (!findVarnishd()) {
    // As the Varnish tests: CI must run the real tiers, a developer machine may lack them.
    if (process.env.CI === "true")
      throw new Error(`CI=true but varnishd is not installed (${VARNISH_INSTALL_HINT})`);
    return { freshnessTiers: { skipped: `varnishd not found (${VARNISH_INSTALL_HINT})` } };
  }
  const fixed = await measureOn(profile, {}, hooks);
  const beforeFix = await measureOn(profile, { ORIGIN_VERSION_PARAM: "" }, hooks);
  return {
    freshnessTiers: {
      syncIntervalMs: L1_SYNC_INTERVAL_MS,
      marginMs: FRESHNESS_MARGIN_MS,
      cloudfrontCompletionDelayMs: DEFAULT_CLOUDFRONT_COMPLETION_DELAY_MS,
      fixed: mode(fixed.run, DEFAULT_ORIGIN_VERSION_PARAM),
      beforeFix: mode(beforeFix.run, ""),
      // Bookings and price changes name only 1 s classes, whose front copies expire before a
      // purge could land: the planner is expected to spend no call on them.
      workersCachePurgeCallsPer1kEvents: per1k(fixed.workersCachePurgeCalls, fixed.run),
    },
  };
}
