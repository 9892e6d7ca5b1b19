/** Builds the webhook app from its configuration: shared by the Lambda handler and the local server. */
import { Redis } from "@upstash/redis";
import type { Hono } from "hono";
import { createKeyspace } from "../../core/keys";
import { createPurgers, type PurgeEnv } from "../purge/config";
import { createEventsApp, type PurgeDispatcher } from "./app";
import { createEventApplier } from "./apply";
import type { EventsConfig } from "./config";
import { createPurgeDispatcher } from "./purge-dispatcher";

export interface EventsAppDependencies {
  /** Replaces the purges built from `purgeEnv`. */
  readonly purges?: PurgeDispatcher;
  /** The CDN settings (CLOUDFLARE_*, CLOUDFRONT_*, see lambdas/purge/config.ts); an unset provider only logs. */
  readonly purgeEnv?: PurgeEnv;
  readonly clock?: { now(): number };
  readonly logger?: Pick<Console, "info" | "warn" | "error">;
}

export function buildEventsApp(config: EventsConfig, dependencies: EventsAppDependencies = {}): Hono {
  const logger = dependencies.logger ?? console;
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
      createPurgeDispatcher(createPurgers(dependencies.purgeEnv ?? {}, { logger }), logger),
    logger,
  });
}
