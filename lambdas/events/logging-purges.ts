/**
 * The purge hand-off when no CDN is configured: logs what it would purge and counts
 * it as done (DESIGN: "a purger that is not configured logs what it would purge and
 * is skipped").
 */
import { cloudFrontPathsForTags } from "../../core/purge-paths";
import type { PurgeDispatcher } from "./app";

export function createLoggingPurges(logger: Pick<Console, "info">): PurgeDispatcher {
  return {
    async dispatch(results) {
      for (const result of results) {
        const paths = [...cloudFrontPathsForTags(result.plan.tags), ...result.plan.paths];
        logger.info(
          `purge skipped (no CDN configured) for ${result.event.id}: tags ${result.plan.tags.join(",")}; paths ${paths.join(",")}`,
        );
      }
      return { settled: results.map((result) => result.event) };
    },
  };
}
