/**
 * Sends the purges the applied events owe: Cloudflare by tag, CloudFront by the
 * paths derived from the same tags. Every event's purges start before any is awaited,
 * so the CloudFront batcher coalesces the whole request into as few invalidations as
 * its limits allow; `flush()` sends them now instead of after the window.
 *
 * An event whose purges failed is not settled: its marker stays "owed", and the next
 * delivery of the event (the sender retries anything not acknowledged as done)
 * completes them without applying anything twice.
 */
import type { Purgers } from "../purge/config";
import type { PurgeOutcome } from "../purge/purger";
import type { PurgeDispatcher } from "./app";

export function createPurgeDispatcher(purgers: Purgers, logger: Pick<Console, "warn">): PurgeDispatcher {
  return {
    async dispatch(results) {
      const pending = results.map((result) =>
        Promise.all([
          purgers.cloudflare.purge(result.plan.tags, result.event.id),
          purgers.cloudfront.purge(result.plan.tags, result.event.id, { paths: result.plan.paths }),
        ]),
      );
      await purgers.cloudfront.flush();
      const outcomes = await Promise.all(pending);
      const settled = [];
      for (const [index, pair] of outcomes.entries()) {
        const result = results[index];
        if (!result) continue;
        const failed = pair.filter((outcome): outcome is Extract<PurgeOutcome, { ok: false }> => !outcome.ok);
        if (failed.length === 0) {
          settled.push(result.event);
        } else {
          for (const failure of failed) {
            logger.warn(`purge owed for ${result.event.id} (${failure.provider}): ${failure.error}`);
          }
        }
      }
      return { settled };
    },
  };
}
