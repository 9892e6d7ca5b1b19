/**
 * Builds the webhook app from its parsed configuration (lambdas/events/config.ts): shared by
 * the Lambda handler and the local server. The logger and metrics are the caller's: the
 * Lambda's powertools ones (lambdas/events/handler.ts), `console` and none on Node.
 */
import type { Hono } from "hono";
import { createKeyspace } from "../../core/keys";
import type { Clock } from "../../core/time/clock";
import { createPurgers } from "../purge/config";
import { retryQueueFor } from "../retry/retry-queue";
import type { Logger } from "../shared/logger";
import { type Metrics, NO_METRICS } from "../shared/metrics";
import { redisClient } from "../shared/redis-settings";
import { createEventsApp, type PurgeDispatcher } from "./app";
import { createEventApplier } from "./apply";
import type { EventsConfig } from "./config";
import { invalidationLogEnd } from "./delivery-report";
import { createPurgeDispatcher } from "./purge-dispatcher";

export interface EventsAppDependencies {
  /** Replaces the purges built from the configuration's CDN and retry-queue settings. */
  readonly purges?: PurgeDispatcher;
  /** Wall-clock time (default `Date`): record timestamps, latencies, propagation. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function buildEventsApp(config: EventsConfig, dependencies: EventsAppDependencies = {}): Hono {
  const logger = dependencies.logger ?? console;
  const metrics = dependencies.metrics ?? NO_METRICS;
  const clock = dependencies.clock ?? Date;
  const redis = redisClient(config);
  const keys = createKeyspace(config.keyPrefix);
  return createEventsApp({
    secrets: config.secrets,
    // A delivery of duplicates still answers with a sync token: the log's end (lambdas/events/delivery-report.ts).
    logEnd: invalidationLogEnd(redis, keys),
    applier: createEventApplier(redis, keys, clock, config.policies),
    purges:
      dependencies.purges ??
      createPurgeDispatcher(
        // The same Redis holds the Workers Cache purge bucket; the policies say which tags it skips.
        createPurgers(config.purge, {
          logger,
          metrics,
          redis: { client: redis, keys },
          policies: config.policies,
        }),
        logger,
        config.retryQueue && retryQueueFor(config.retryQueue),
        clock,
        metrics,
      ),
    logger,
    metrics,
    clock,
  });
}
