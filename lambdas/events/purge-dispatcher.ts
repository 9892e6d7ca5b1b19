/**
 * Sends the purges the applied events owe: Workers Cache (the front tier in front of the
 * Worker) through the Worker's signed purge endpoint, CloudFront by the paths derived from
 * the same tags, and the zone cache (Cloudflare API by tag) only where a deployment has its
 * settings: nothing of ours lives in the zone cache by default (the Worker's answers are
 * held by Workers Cache, which no zone purge reaches, and its origin fetches go to
 * CloudFront), so purging it by default would only spend the account's purge budget.
 *
 * Workers Cache allows 5 purge calls a minute (lambdas/purge/workers-cache/), so:
 * - a tag whose class's front TTL is at most WORKERS_CACHE_PURGE_MIN_TTL_SECONDS is not
 *   purged at all (its copies expire before the purge would land);
 * - with a retry queue the rest is not purged in the request: the delivery's targets go on
 *   the queue as one message (delayed DEFERRED_PURGE_DELAY_SECONDS), and the retry handler
 *   merges the messages of a whole SQS batch (gathered for WORKERS_CACHE_PURGE_WINDOW_MS by
 *   the event source) into a few planned calls;
 * - without a queue the delivery's targets are planned and sent in the request, as one
 *   purge for all its events; if not all could be sent its events stay unsettled.
 *
 * CloudFront likewise: with a retry queue it is not called in the request; the delivery's
 * paths go on the queue as one message, and the retry handler merges a batch's messages into
 * one invalidation (waiting for CloudFront here cost every delivery the batcher's window and,
 * in a burst, back-off behind its 15 in-flight wildcard invalidations). Without a queue,
 * CloudFront purges join the batcher's window (PURGE_COALESCE_WINDOW_MS), so the events of
 * concurrent deliveries share one invalidation.
 *
 * A purge that still fails goes on the retry queue (lambdas/retry/), which retries it
 * with back-off and ends in a dead-letter queue: the event is settled once all of its
 * failed (or deferred) purges are safely queued. Without a queue, or when queueing
 * fails too, the event is not settled: its marker stays "owed", and the next delivery
 * of the event (the sender retries anything not acknowledged as done) completes them
 * without applying anything twice.
 *
 * Every message queued is a line with its SQS message id and the events it carries (the
 * retry Lambda's lines name the same message id) and a PurgesQueued count; one SQS did not
 * take, a warning and PurgesNotQueued.
 */

import { type Clock, systemClock } from "../../core/time/clock";
import { deferredCloudFrontRetry } from "../purge/cloudfront";
import { combinedBatchKey } from "../purge/cloudfront/caller-reference";
import type { Purgers } from "../purge/config";
import type { PurgeOutcome, PurgeProviderName, PurgeRetry } from "../purge/purger";
import { deferredWorkersCacheRetry, isEmptyTargets } from "../purge/workers-cache";
import { retryMessage } from "../retry/message";
import type { RetryQueue } from "../retry/retry-queue";
import { type Logger, loggedIds } from "../shared/logger";
import { type Metrics, NO_METRICS } from "../shared/metrics";
import type { PurgeDispatcher } from "./app";

type FailedOutcome = Extract<PurgeOutcome, { ok: false }>;
type Results = Parameters<PurgeDispatcher["dispatch"]>[0];

/**
 * Long enough for the messages of a burst to gather into one receive, short enough that
 * the edge still changes within about a second or two.
 */
export const DEFERRED_PURGE_DELAY_SECONDS = 1;
/** CloudFront's deferral (the same delay as every deferred purge). */
export const DEFERRED_CLOUDFRONT_DELAY_SECONDS = DEFERRED_PURGE_DELAY_SECONDS;

export const DEFERRED_PURGE_REASON = "deferred: coalesced off the request path";
export const DEFERRED_CLOUDFRONT_REASON = DEFERRED_PURGE_REASON;

/** A message to queue on behalf of `eventIds`. */
interface Owed {
  readonly retry: PurgeRetry;
  readonly error: string;
  readonly eventIds: string[];
}

/** The delivery's CloudFront paths as one retry, owed by every event that has any. */
function deferredCloudFront(
  results: Results,
  distributionId: string,
  logger: Pick<Logger, "warn">,
): Owed | undefined {
  const deferred = deferredCloudFrontRetry(
    results.map((result) => ({
      batchKey: result.event.id,
      tags: result.plan.tags,
      paths: result.plan.paths,
    })),
    distributionId,
    logger,
  );
  if (!deferred) return undefined;
  return { retry: deferred.retry, error: DEFERRED_PURGE_REASON, eventIds: deferred.batchKeys };
}

/** The delivery's Workers Cache targets as one retry, owed by every event that has any. */
function deferredWorkersCache(results: Results, purgers: Purgers): Owed | undefined {
  const deferred = deferredWorkersCacheRetry(
    results.map((result) => ({
      batchKey: result.event.id,
      tags: result.plan.tags,
      paths: result.plan.paths,
    })),
    purgers.workersCacheTargets,
  );
  if (!deferred) return undefined;
  return { retry: deferred.retry, error: DEFERRED_PURGE_REASON, eventIds: deferred.batchKeys };
}

/** One Workers Cache purge for the whole delivery (one plan, few calls), owed by the events that owe any. */
async function workersCacheInRequest(
  results: Results,
  purgers: Purgers,
): Promise<{ outcome: PurgeOutcome; eventIds: string[] } | undefined> {
  const owing = results.filter(
    (result) => !isEmptyTargets(purgers.workersCacheTargets(result.plan.tags, result.plan.paths)),
  );
  if (owing.length === 0) return undefined;
  const eventIds = owing.map((result) => result.event.id);
  const outcome = await purgers.workersCache.purge(
    [...new Set(owing.flatMap((result) => result.plan.tags))],
    combinedBatchKey(eventIds),
    { paths: [...new Set(owing.flatMap((result) => result.plan.paths))] },
  );
  return { outcome, eventIds };
}

export function createPurgeDispatcher(
  purgers: Purgers,
  logger: Pick<Logger, "info" | "warn">,
  retryQueue?: RetryQueue,
  /** When a queued purge failed (`firstFailedAt`); wall-clock time. */
  clock: Clock = systemClock,
  metrics: Metrics = NO_METRICS,
): PurgeDispatcher {
  const distributionId = purgers.cloudfrontDistributionId;
  const deferCloudFront = retryQueue !== undefined && distributionId !== undefined;
  // Unconfigured, its logging purger runs in the request (it only logs).
  const deferWorkersCache = retryQueue !== undefined && purgers.configured.workersCache;
  const zone = purgers.configured.cloudflare;

  /** Queues `owed` and returns the keys that SQS took. */
  const enqueue = async (owed: ReadonlyMap<string, Owed>, delaySeconds?: number): Promise<Set<string>> => {
    const queued = new Set<string>();
    if (!retryQueue || owed.size === 0) return queued;
    const entries = [...owed.entries()];
    const enqueued = await retryQueue.enqueue(
      entries.map(([, { retry, eventIds, error }]) => retryMessage(retry, eventIds, error, clock)),
      delaySeconds !== undefined ? { delaySeconds } : {},
    );
    for (const [index, [key, { retry, eventIds, error }]] of entries.entries()) {
      const outcome = enqueued[index];
      const provider: PurgeProviderName = retry.provider;
      const fields = {
        provider,
        eventCount: eventIds.length,
        eventIds: loggedIds(eventIds),
        reason: error === DEFERRED_PURGE_REASON ? "deferred" : "failed",
      };
      if (outcome?.ok) {
        queued.add(key);
        metrics.add("PurgesQueued", 1, { provider });
        logger.info("purge queued for retry", { ...fields, messageId: outcome.messageId });
      } else {
        metrics.add("PurgesNotQueued", 1, { provider });
        logger.warn("purge could not be queued, left owed", {
          ...fields,
          error: outcome?.error ?? "no result",
        });
      }
    }
    return queued;
  };

  return {
    async dispatch(results) {
      const pending = results.map((result) =>
        Promise.all([
          zone ? purgers.cloudflare.purge(result.plan.tags, result.event.id) : undefined,
          deferCloudFront
            ? undefined
            : purgers.cloudfront.purge(result.plan.tags, result.event.id, { paths: result.plan.paths }),
        ]),
      );
      const workersCache = deferWorkersCache ? undefined : workersCacheInRequest(results, purgers);

      const deferred = new Map<string, Owed>();
      const cloudFrontDelivery = deferCloudFront
        ? deferredCloudFront(results, distributionId, logger)
        : undefined;
      if (cloudFrontDelivery) deferred.set("deferred:cloudfront", cloudFrontDelivery);
      const workersCacheDelivery = deferWorkersCache ? deferredWorkersCache(results, purgers) : undefined;
      if (workersCacheDelivery) deferred.set("deferred:workers-cache", workersCacheDelivery);
      // Queued while the in-request purges run: it does not depend on them.
      const deferredQueued = enqueue(deferred, DEFERRED_PURGE_DELAY_SECONDS);

      // One message per distinct retry: a failed coalesced batch (CloudFront's, or the
      // delivery's Workers Cache purge) hands the same description to every event in it,
      // and it is owed once, on behalf of all of them.
      const owed = new Map<string, Owed>();
      const owedBy = new Map<string, string[]>();
      const owe = (id: string, key: string) => owedBy.set(id, [...(owedBy.get(id) ?? []), key]);
      const fail = (ids: readonly string[], failure: FailedOutcome) => {
        logger.warn("purge failed in the request, owed", {
          provider: failure.provider,
          eventCount: ids.length,
          eventIds: loggedIds(ids),
          calls: failure.calls,
          error: failure.error,
        });
        const key = JSON.stringify(failure.retry);
        const entry = owed.get(key) ?? { retry: failure.retry, error: failure.error, eventIds: [] };
        entry.eventIds.push(...ids);
        owed.set(key, entry);
        for (const id of ids) owe(id, key);
      };

      for (const [key, delivery] of deferred) for (const id of delivery.eventIds) owe(id, key);
      for (const [index, pair] of (await Promise.all(pending)).entries()) {
        const id = results[index]?.event.id;
        if (id === undefined) continue;
        for (const outcome of pair) if (outcome && !outcome.ok) fail([id], outcome);
      }
      const inRequest = await workersCache;
      if (inRequest && !inRequest.outcome.ok) fail(inRequest.eventIds, inRequest.outcome);

      const queued = new Set([...(await enqueue(owed)), ...(await deferredQueued)]);
      const settled = results
        .filter((result) => (owedBy.get(result.event.id) ?? []).every((key) => queued.has(key)))
        .map((result) => result.event);
      return { settled };
    },
  };
}
