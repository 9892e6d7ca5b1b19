/**
 * Gathers one DashboardSnapshot (snapshot-types.ts) from the stack's own parts: in process
 * where the stack holds the objects (the bridge's usage, the event app's counts, what the CDN
 * and SQS fakes recorded), over HTTP where it has only a URL (the Worker's /_cache/stats, in
 * workerd), and from varnishstat for the two Varnish caches. A part that cannot be read is
 * reported as `{ unavailable: why }`; the snapshot itself is always answered.
 */
import { z } from "zod";
import type { Clock } from "../../../core/time/clock";
import { decodeRetryMessage } from "../../../lambdas/retry/message";
import type { BridgeUsage } from "../../bridge/app";
import type { CloudFrontFake, CloudflareFake } from "../../fakes";
import type { SqsFake } from "../../fakes/sqs";
import type { EventCounts } from "./event-counts";
import {
  type DashboardSnapshot,
  PURGE_PROVIDERS,
  type PurgeProvider,
  type Unavailable,
  type VarnishTier,
  type WorkerTier,
} from "./snapshot-types";

/** Under the page's one-second poll, so a stuck Worker cannot pile requests up. */
const WORKER_STATS_TIMEOUT_MS = 800;

export interface SnapshotSources {
  readonly clock: Clock;
  /** The Worker's /_cache/stats and the operator token that opens it. */
  readonly workerStats: { readonly url: string; readonly operatorToken: string };
  readonly redisUsage: Readonly<BridgeUsage>;
  readonly eventCounts: EventCounts;
  readonly cloudflareFake: Pick<CloudflareFake, "purges" | "requests">;
  readonly cloudfrontFake: Pick<CloudFrontFake, "purges" | "requests">;
  /** Calls to the Worker's purge endpoint, and how many it accepted. */
  readonly workersCachePurges: () => { readonly sent: number; readonly accepted: number };
  /** The purge-retry queue and its dead-letter queue; absent when purges are not queued. */
  readonly retryQueues?: {
    readonly sqs: Pick<SqsFake, "messages">;
    readonly queue: string;
    readonly deadLetterQueue: string;
  };
  /** Reads a tier's Varnish counters, or says why there are none (no HTTP caches, no varnishstat). */
  readonly varnish: {
    readonly front: () => Promise<VarnishTier | Unavailable>;
    readonly back: () => Promise<VarnishTier | Unavailable>;
  };
  readonly fetch?: typeof fetch;
}

const workerStatsSchema = z.object({
  hits: z.object({ l1: z.number(), l2: z.number(), origin: z.number() }),
  misses: z.object({ l1: z.number(), l2: z.number() }),
  staleServed: z.object({ revalidating: z.number() }),
  negativeHits: z.number().default(0),
  bypass: z.number(),
  originErrors: z.number(),
  redisCommands: z.number(),
  redisErrors: z.number(),
  answers: z.record(z.string(), z.record(z.string(), z.number())).optional(),
});

async function readWorkerTier(sources: SnapshotSources): Promise<WorkerTier | Unavailable> {
  const { url, operatorToken } = sources.workerStats;
  let response: Response;
  try {
    response = await (sources.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${operatorToken}` },
      signal: AbortSignal.timeout(WORKER_STATS_TIMEOUT_MS),
    });
  } catch (error) {
    return { unavailable: `${url}: ${(error as Error).message}` };
  }
  const text = await response.text();
  if (!response.ok) return { unavailable: `${url} answered ${response.status}: ${text.slice(0, 200)}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { unavailable: `${url} answered something other than JSON` };
  }
  const parsed = workerStatsSchema.safeParse(json);
  if (!parsed.success)
    return {
      unavailable: `${url} lacks ${parsed.error.issues.map((issue) => issue.path.join(".")).join(", ")}`,
    };
  const stats = parsed.data;
  return {
    lookups: stats.hits.l1 + stats.staleServed.revalidating + stats.negativeHits + stats.misses.l1,
    l1Hits: stats.hits.l1,
    l1Stale: stats.staleServed.revalidating,
    negativeHits: stats.negativeHits,
    l1Misses: stats.misses.l1,
    l2Hits: stats.hits.l2,
    l2Misses: stats.misses.l2,
    originFetches: stats.hits.origin,
    bypass: stats.bypass,
    originErrors: stats.originErrors,
    redisCommands: stats.redisCommands,
    redisErrors: stats.redisErrors,
    ...(stats.answers ? { byClass: stats.answers } : {}),
  };
}

/** Messages per provider on one queue; a body that does not decode counts as poison. */
function queuedByProvider(sqs: Pick<SqsFake, "messages">, queue: string) {
  const counts = Object.fromEntries(PURGE_PROVIDERS.map((provider) => [provider, 0])) as Record<
    PurgeProvider,
    number
  >;
  let poison = 0;
  for (const message of sqs.messages(queue)) {
    const decoded = decodeRetryMessage(message.body);
    if (decoded.ok) counts[decoded.message.retry.provider] += 1;
    else poison += 1;
  }
  return { counts, poison };
}

/** The CloudFront API calls that ask for an invalidation (the others read one's status). */
function createInvalidationCalls(requests: CloudFrontFake["requests"]): number {
  return requests.filter((request) => request.method === "POST" && request.path.endsWith("/invalidation"))
    .length;
}

async function settled<T>(work: () => Promise<T | Unavailable>): Promise<T | Unavailable> {
  try {
    return await work();
  } catch (error) {
    return { unavailable: (error as Error).message };
  }
}

export function createSnapshotReader(sources: SnapshotSources): () => Promise<DashboardSnapshot> {
  return async () => {
    const [front, worker, back] = await Promise.all([
      settled(sources.varnish.front),
      readWorkerTier(sources),
      settled(sources.varnish.back),
    ]);
    const none = { counts: { "workers-cache": 0, cloudfront: 0, cloudflare: 0 }, poison: 0 };
    const queues = sources.retryQueues;
    const queued = queues ? queuedByProvider(queues.sqs, queues.queue) : none;
    const dead = queues ? queuedByProvider(queues.sqs, queues.deadLetterQueue) : none;
    const workersCache = sources.workersCachePurges();
    const calls: Record<PurgeProvider, { sent: number; accepted: number }> = {
      "workers-cache": workersCache,
      cloudfront: {
        sent: createInvalidationCalls(sources.cloudfrontFake.requests),
        accepted: sources.cloudfrontFake.purges.length,
      },
      cloudflare: {
        sent: sources.cloudflareFake.requests.length,
        accepted: sources.cloudflareFake.purges.length,
      },
    };
    return {
      at: sources.clock.now(),
      tiers: { front, worker, back },
      redis: { requests: sources.redisUsage.requests, commands: sources.redisUsage.commands },
      events: sources.eventCounts.snapshot(),
      purges: Object.fromEntries(
        PURGE_PROVIDERS.map((provider) => [
          provider,
          { ...calls[provider], queued: queued.counts[provider], deadLettered: dead.counts[provider] },
        ]),
      ) as DashboardSnapshot["purges"],
      poisonMessages: queued.poison + dead.poison,
    };
  };
}
