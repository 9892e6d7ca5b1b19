/**
 * Sends the purges the applied events owe: Cloudflare by tag, CloudFront by the
 * paths derived from the same tags. CloudFront purges join the batcher's window
 * (PURGE_COALESCE_WINDOW_MS), so the events of concurrent deliveries share one
 * invalidation: flushing per request would spend CloudFront's 15 in-flight wildcard
 * invalidations on a burst within seconds.
 *
 * A purge that still fails goes on the retry queue (lambdas/retry/), which retries it
 * with back-off and ends in a dead-letter queue: the event is settled once all of its
 * failed purges are safely queued. Without a queue, or when queueing fails too, the
 * event is not settled: its marker stays "owed", and the next delivery of the event
 * (the sender retries anything not acknowledged as done) completes them without
 * applying anything twice.
 */
import type { Purgers } from "../purge/config";
import type { PurgeOutcome } from "../purge/purger";
import { retryMessage } from "../retry/message";
import type { RetryQueue } from "../retry/retry-queue";
import type { PurgeDispatcher } from "./app";

type FailedOutcome = Extract<PurgeOutcome, { ok: false }>;

export function createPurgeDispatcher(
  purgers: Purgers,
  logger: Pick<Console, "warn">,
  retryQueue?: RetryQueue,
): PurgeDispatcher {
  return {
    async dispatch(results) {
      const pending = results.map((result) =>
        Promise.all([
          purgers.cloudflare.purge(result.plan.tags, result.event.id),
          purgers.cloudfront.purge(result.plan.tags, result.event.id, { paths: result.plan.paths }),
        ]),
      );
      const outcomes = await Promise.all(pending);
      // One message per distinct retry: a failed coalesced CloudFront batch hands the same
      // description to every event in it, and it is owed once, on behalf of all of them.
      const owed = new Map<string, { failure: FailedOutcome; eventIds: string[] }>();
      const owedBy = new Map<string, string[]>();
      for (const [index, pair] of outcomes.entries()) {
        const id = results[index]?.event.id;
        if (id === undefined) continue;
        const keys: string[] = [];
        for (const failure of pair.filter((outcome): outcome is FailedOutcome => !outcome.ok)) {
          logger.warn(`purge owed for ${id} (${failure.provider}): ${failure.error}`);
          const key = JSON.stringify(failure.retry);
          const entry = owed.get(key) ?? { failure, eventIds: [] };
          entry.eventIds.push(id);
          owed.set(key, entry);
          keys.push(key);
        }
        owedBy.set(id, [...(owedBy.get(id) ?? []), ...keys]);
      }

      const queued = new Set<string>();
      if (retryQueue && owed.size > 0) {
        const entries = [...owed.entries()];
        const enqueued = await retryQueue.enqueue(
          entries.map(([, { failure, eventIds }]) => retryMessage(failure.retry, eventIds, failure.error)),
        );
        for (const [index, [key, { failure, eventIds }]] of entries.entries()) {
          const outcome = enqueued[index];
          if (outcome?.ok) queued.add(key);
          else
            logger.warn(
              `purge retry for ${eventIds.join(", ")} (${failure.provider}) could not be queued, left owed: ${outcome?.error ?? "no result"}`,
            );
        }
      }
      const settled = results
        .filter((result) => (owedBy.get(result.event.id) ?? []).every((key) => queued.has(key)))
        .map((result) => result.event);
      return { settled };
    },
  };
}
