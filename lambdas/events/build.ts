/**
 * Builds the webhook app from its parsed configuration (lambdas/events/config.ts): shared by
 * the Lambda handler and the local server.
 */
import type { Hono } from "hono";
import { createKeyspace } from "../../core/keys";
import type { Clock } from "../../core/time/clock";
import { createPurgers } from "../purge/config";
import { retryQueueFor } from "../retry/retry-queue";
import { redisClient } from "../shared/redis-settings";
import { createEventsApp, type PurgeDispatcher } from "./app";
import { createEventApplier } from "./apply";
import type { EventsConfig } from "./config";
import { createPurgeDispatcher } from "./purge-dispatcher";

export interface EventsAppDependencies {
  /** Replaces the purges built from the configuration's CDN and retry-queue settings. */
  readonly purges?: PurgeDispatcher;
  readonly clock?: Clock;
  readonly logger?: Pick<Console, "info" | "warn" | "error">;
}

export function buildEventsApp(config: EventsConfig, dependencies: EventsAppDependencies = {}): Hono {
  const logger = dependencies.logger ?? console;
  const redis = redisClient(config);
  const keys = createKeyspace(config.keyPrefix);
  return createEventsApp({
    secrets: config.secrets,
    applier: createEventApplier(redis, keys, dependencies.clock ?? Date, config.policies),
    purges:
      dependencies.purges ??
      createPurgeDispatcher(
        // The same Redis holds the Workers Cache purge bucket; the policies say which tags it skips.
        createPurgers(config.purge, { logger, redis: { client: redis, keys }, policies: config.policies }),
        logger,
        config.retryQueue && retryQueueFor(config.retryQueue),
      ),
    logger,
  });
}
