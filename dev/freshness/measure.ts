/**
 * One freshness run against a running stack: readers through the front URL while the writer
 * changes the target GPUs and prices, then every read judged (summary.ts). The counters of the
 * origin and the Worker, read before and after, say how much went through the back cache.
 *
 * The writer stops one bound before the readers do, so every change has its bound's worth of
 * reads after it.
 */
import type { DataClassPolicies } from "../../core/data-classes";
import { freshnessBounds } from "./bounds";
import { type FreshnessRead, runReaders } from "./readers";
import { type FreshnessSummary, summariseFreshness } from "./summary";
import { chooseTargets, type FreshnessTargets, readTargetsFor } from "./targets";
import { AckTimeline } from "./timeline";
import { runWriter, type WriterDelivery } from "./writer";

export interface FreshnessRunOptions {
  /** Where clients read: the front cache. */
  readonly edgeUrl: string;
  /** The sample origin itself: its admin API (the writer) and its request counters. */
  readonly originUrl: string;
  readonly eventsUrl: string;
  readonly webhookSecret: string;
  /** The Worker itself and its operator token, for its /_cache/stats. */
  readonly worker?: { readonly url: string; readonly operatorToken: string };
  /** The Worker's L1_SYNC_INTERVAL_MS. */
  readonly syncIntervalMs: number;
  readonly policies?: DataClassPolicies;
  readonly marginMs?: number;
  readonly durationMs: number;
  readonly readers: number;
  readonly readPauseMs: number;
  readonly eventIntervalMs: number;
  /** Default: enough for every reader never to pause. */
  readonly maxReads?: number;
  readonly shape?: { readonly pairs: number; readonly gpusPerPair: number };
  readonly now?: () => number;
}

export interface TierCounters {
  /** Public GETs the origin served during the run: each came through the back cache. */
  readonly originRequests: number;
  /** The Worker's origin fetches (answers and errors); null without its stats. */
  readonly workerOriginFetches: number | null;
  /** Of those, the ones carrying a tag version (core/tag-versions.ts). */
  readonly versionedOriginFetches: number | null;
  /** Fetches the origin never saw: the back cache answered at least this many itself. */
  readonly backCacheHitsAtLeast: number | null;
}

export interface FreshnessRun extends FreshnessSummary {
  readonly targets: FreshnessTargets;
  readonly durationMs: number;
  readonly readers: number;
  readonly writer: {
    readonly intervalMs: number;
    readonly deliveries: number;
    /** Events delivered, the market-stats ones included. */
    readonly events: number;
    readonly deliveriesPerSecond: number;
    readonly eventsPerSecond: number;
  };
  readonly counters: TierCounters;
  /** Kept for callers that look further (the test prints a few). */
  readonly reads: readonly FreshnessRead[];
  readonly deliveries: readonly WriterDelivery[];
}

interface Snapshot {
  readonly originRequests: number;
  readonly workerOriginFetches: number | null;
  readonly versionedOriginFetches: number | null;
}

async function snapshot(options: FreshnessRunOptions): Promise<Snapshot> {
  const origin = (await (await fetch(`${options.originUrl}/_admin/counters`)).json()) as { requests: number };
  if (!options.worker)
    return { originRequests: origin.requests, workerOriginFetches: null, versionedOriginFetches: null };
  const response = await fetch(`${options.worker.url}/_cache/stats`, {
    headers: { authorization: `Bearer ${options.worker.operatorToken}` },
  });
  if (!response.ok) throw new Error(`the Worker's /_cache/stats answered ${response.status}`);
  const stats = (await response.json()) as {
    hits: { origin: number };
    originErrors: number;
    versionedOriginFetches: number;
  };
  return {
    originRequests: origin.requests,
    workerOriginFetches: stats.hits.origin + stats.originErrors,
    versionedOriginFetches: stats.versionedOriginFetches,
  };
}

function difference(before: Snapshot, after: Snapshot): TierCounters {
  const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
  const originRequests = after.originRequests - before.originRequests;
  const workerOriginFetches = delta(before.workerOriginFetches, after.workerOriginFetches);
  return {
    originRequests,
    workerOriginFetches,
    versionedOriginFetches: delta(before.versionedOriginFetches, after.versionedOriginFetches),
    backCacheHitsAtLeast:
      workerOriginFetches === null ? null : Math.max(0, workerOriginFetches - originRequests),
  };
}

export async function measureFreshness(options: FreshnessRunOptions): Promise<FreshnessRun> {
  const now = options.now ?? (() => performance.now());
  const bounds = freshnessBounds(options);
  const targets = await chooseTargets(options.originUrl, options.shape ?? { pairs: 2, gpusPerPair: 2 });
  const readTargets = readTargetsFor(targets);
  // Every tier holds every target before the clock starts, as in a running system.
  for (const target of readTargets) await (await fetch(`${options.edgeUrl}${target.path}`)).arrayBuffer();
  const tailMs = Math.max(...readTargets.map((target) => bounds[target.dataClass]));
  if (options.durationMs <= tailMs)
    throw new RangeError(`durationMs must exceed the largest bound read (${tailMs} ms)`);

  const before = await snapshot(options);
  const timeline = new AckTimeline();
  const controller = new AbortController();
  const start = now();
  const readsEnd = start + options.durationMs;
  const writerUntil = readsEnd - tailMs;
  const readers = runReaders({
    baseUrl: options.edgeUrl,
    targets: readTargets,
    readers: options.readers,
    until: readsEnd,
    maxReads:
      options.maxReads ??
      Math.ceil((options.readers * options.durationMs) / Math.max(1, options.readPauseMs)) + options.readers,
    pauseMs: options.readPauseMs,
    now,
    signal: controller.signal,
  });
  const writer = runWriter({
    originUrl: options.originUrl,
    eventsUrl: options.eventsUrl,
    webhookSecret: options.webhookSecret,
    gpuIds: targets.gpuIds,
    pairs: targets.pairs,
    intervalMs: options.eventIntervalMs,
    until: writerUntil,
    maxDeliveries: Math.ceil((writerUntil - start) / options.eventIntervalMs) + 1,
    timeline,
    now,
    signal: controller.signal,
  }).catch((error: unknown) => {
    controller.abort();
    throw error;
  });
  const [reads, deliveries] = await Promise.all([readers, writer]);
  const after = await snapshot(options);

  // The writer's window, not the span of its deliveries: a short run's last step ends early.
  const writerSeconds = (Math.max(writerUntil, deliveries.at(-1)?.ackedAt ?? start) - start) / 1000;
  const events = deliveries.reduce((sum, delivery) => sum + delivery.events, 0);
  return {
    // The last read sent, not the deadline: a change counts for visibility only if reads covered its bound.
    ...summariseFreshness({ reads, timeline, bounds, deliveries, readsEnd: reads.at(-1)?.sentAt ?? start }),
    targets,
    durationMs: options.durationMs,
    readers: options.readers,
    writer: {
      intervalMs: options.eventIntervalMs,
      deliveries: deliveries.length,
      events,
      deliveriesPerSecond: deliveries.length / writerSeconds,
      eventsPerSecond: events / writerSeconds,
    },
    counters: difference(before, after),
    reads,
    deliveries,
  };
}
