/**
 * Sends the purges the applied events owe: Cloudflare by tag, CloudFront by the
 * paths derived from the same tags.
 *
 * With a retry queue, CloudFront is not called in the request at all: the delivery's
 * paths go on the queue as one message (delayed DEFERRED_CLOUDFRONT_DELAY_SECONDS), and
 * the retry handler merges the messages of a whole SQS batch into one invalidation.
 * Waiting for CloudFront here cost every delivery the batcher's window and, in a burst,
 * back-off behind CloudFront's 15 in-flight wildcard invalidations, while the queue
 * coalesces far more deliveries than one window does and already ends in a DLQ.
 * Without a queue, CloudFront purges join the batcher's window
 * (PURGE_COALESCE_WINDOW_MS), so the events of concurrent deliveries share one
 * invalidation.
 *
 * A purge that still fails goes on the retry queue (lambdas/retry/), which retries it
 * with back-off and ends in a dead-letter queue: the event is settled once all of its
 * failed (or deferred) purges are safely queued. Without a queue, or when queueing
 * fails too, the event is not settled: its marker stays "owed", and the next delivery
 * of the event (the sender retries anything not acknowledged as done) completes them
 * without applying anything twice.
 */

import { type Clock, systemClock } from "../../core/time/clock";
import { deferredCloudFrontRetry } from "../purge/cloudfront";
import type { Purgers } from "../purge/config";
import type { PurgeOutcome, PurgeRetry } from "../purge/purger";
import { retryMessage } from "../retry/message";
import type { RetryQueue } from "../retry/retry-queue";
import type { PurgeDispatcher } from "./app";

type FailedOutcome = Extract<PurgeOutcome, { ok: false }>;

/**
 * Long enough for the messages of a burst to gather into one receive, short enough that
 * the edge still changes within about a second or two.
 */
export const DEFERRED_CLOUDFRONT_DELAY_SECONDS = 1;

export const DEFERRED_CLOUDFRONT_REASON = "deferred: coalesced off the request path";

/** A message to queue on behalf of `eventIds`. */
interface Owed {
  readonly retry: PurgeRetry;
  readonly error: string;
  readonly eventIds: string[];
}

/** The delivery's CloudFront paths as one retry, owed by every event that has any. */
function deferredCloudFront(
  results: Parameters<PurgeDispatcher["dispatch"]>[0],
  distributionId: string,
  logger: Pick<Console, "warn">,
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
  return { retry: deferred.retry, error: DEFERRED_CLOUDFRONT_REASON, eventIds: deferred.batchKeys };
}

export function createPurgeDispatcher(
  purgers: Purgers,
  logger: Pick<Console, "warn">,
  retryQueue?: RetryQueue,
  /** When a queued purge failed (`firstFailedAt`); wall-clock time. */
  clock: Clock = systemClock,
): PurgeDispatcher {
  const distributionId = purgers.cloudfrontDistributionId;
  const defer = retryQueue !== undefined && distributionId !== undefined;

  /** Queues `owed` and returns the keys that SQS took. */
  const enqueue = async (owed: ReadonlyMap<string, Owed>, delaySeconds?: number): Promise<Set<string>> => {
    const queued = new Set<string>();
    if (!retryQueue || owed.size === 0) return queued;
    const entries = [...owed.entries()];
    const enqueued = await retryQueue.enqueue(
      entries.map(([, { retry, eventIds, error }]) => retryMessage(retry, eventIds, error, clock)),
      delaySeconds !== undefined ? { delaySeconds } : {},
    );
    for (const [index, [key, { retry, eventIds }]] of entries.entries()) {
      const outcome = enqueued[index];
      if (outcome?.ok) queued.add(key);
      else
        logger.warn(
          `purge retry for ${eventIds.join(", ")} (${retry.provider}) could not be queued, left owed: ${outcome?.error ?? "no result"}`,
        );
    }
    return queued;
  };

  return {
    async dispatch(results) {
      const pending = results.map((result) =>
        Promise.all([
          purgers.cloudflare.purge(result.plan.tags, result.event.id),
          defer
            ? undefined
            : purgers.cloudfront.purge(result.plan.tags, result.event.id, { paths: result.plan.paths }),
        ]),
      );
      const deferred = new Map<string, Owed>();
      const delivery = defer ? deferredCloudFront(results, distributionId, logger) : undefined;
      if (delivery) deferred.set("deferred", delivery);
      // Queued while the in-request purges run: it does not depend on them.
      const deferredQueued = enqueue(deferred, DEFERRED_CLOUDFRONT_DELAY_SECONDS);

      const outcomes = await Promise.all(pending);
      // One message per distinct retry: a failed coalesced CloudFront batch hands the same
      // description to every event in it, and it is owed once, on behalf of all of them.
      const owed = new Map<string, Owed>();
      const owedBy = new Map<string, string[]>();
      for (const [index, pair] of outcomes.entries()) {
        const id = results[index]?.event.id;
        if (id === undefined) continue;
        const keys: string[] = delivery?.eventIds.includes(id) ? ["deferred"] : [];
        for (const failure of pair.filter(
          (outcome): outcome is FailedOutcome => outcome !== undefined && !outcome.ok,
        )) {
          logger.warn(`purge owed for ${id} (${failure.provider}): ${failure.error}`);
          const key = JSON.stringify(failure.retry);
          const entry = owed.get(key) ?? { retry: failure.retry, error: failure.error, eventIds: [] };
          entry.eventIds.push(id);
          owed.set(key, entry);
          keys.push(key);
        }
        owedBy.set(id, [...(owedBy.get(id) ?? []), ...keys]);
      }

      const queued = new Set([...(await enqueue(owed)), ...(await deferredQueued)]);
      const settled = results
        .filter((result) => (owedBy.get(result.event.id) ?? []).every((key) => queued.has(key)))
        .map((result) => result.event);
      return { settled };
    },
  };
}
