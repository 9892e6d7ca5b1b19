/** Builds the webhook app from its configuration: shared by the Lambda handler and the local server. */
import { Redis } from "@upstash/redis";
import type { Hono } from "hono";
import { createKeyspace } from "../../core/keys";
import { createPurgers, type PurgeEnv } from "../purge/config";
import { retryQueueFromEnv } from "../retry/retry-queue";
import { createEventsApp, type PurgeDispatcher } from "./app";
import { createEventApplier } from "./apply";
import type { EventsConfig } from "./config";
import { createPurgeDispatcher } from "./purge-dispatcher";

export interface EventsAppDependencies {
  /** Replaces the purges built from `purgeEnv`. */
  readonly purges?: PurgeDispatcher;
  /**
   * The CDN settings (CLOUDFLARE_*, CLOUDFRONT_*, see lambdas/purge/config.ts; an unset provider
   * only logs) and the retry queue's (PURGE_RETRY_QUEUE_URL, SQS_ENDPOINT, see
   * lambdas/retry/retry-queue.ts; unset: a failed purge leaves its event unsettled).
   */
  readonly purgeEnv?: PurgeEnv;
  readonly clock?: { now(): number };
  readonly logger?: Pick<Console, "info" | "warn" | "error">;
}

export function buildEventsApp(config: EventsConfig, dependencies: EventsAppDependencies = {}): Hono {
  const logger = dependencies.logger ?? console;
  const purgeEnv = dependencies.purgeEnv ?? {};
  const redis = new Redis({
    url: config.redisUrl,
    token: config.redisToken,
    // Record bodies are JSON text and must be stored byte for byte.
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  return createEventsApp({
    secrets: config.secrets,
    applier: createEventApplier(redis, createKeyspace(config.keyPrefix), dependencies.clock ?? Date),
    purges:
      dependencies.purges ??
      createPurgeDispatcher(createPurgers(purgeEnv, { logger }), logger, retryQueueFromEnv(purgeEnv)),
    logger,
  });
}
