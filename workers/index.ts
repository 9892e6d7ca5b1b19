/**
 * The edge Worker's entry. Services are built once per isolate, on the first
 * request (bindings only arrive with a request), and live in module scope for the
 * isolate's lifetime: L1, the invalidation-log cursor and the counters with them.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { createRedisL2Store } from "../core/cache/l2-store";
import { TieredCache } from "../core/cache/tiered-cache";
import { createKeyspace } from "../core/keys";
import { type Clock, systemClock } from "../core/time/clock";
import { createEdgeApp, type EdgeServices } from "./app";
import { parseWorkerConfig } from "./config";

let services: EdgeServices | undefined;
let servicesEnv: Record<string, unknown> | undefined;

/** How the Worker's Upstash client is set up; the benchmarks build theirs the same way. */
export const REDIS_CLIENT_OPTIONS = {
  // Bodies are stored as JSON text and must come back byte for byte.
  automaticDeserialization: false,
  // The engine bounds every call with its own timeouts and falls back; client retries would stall it.
  retry: false,
  enableTelemetry: false,
  // Auto-pipelining would batch the commands of concurrent requests into one fetch made by one of
  // them, the others awaiting its promise: the cross-request wait that workerd gets wrong (see
  // waitInOwnContext in core/cache/shared-work.ts). The engine shares work across requests itself, safely.
  enableAutoPipelining: false,
} as const;

/** What tests replace; production uses the defaults. */
export interface ServiceDependencies {
  readonly clock?: Clock;
  readonly fetchOrigin?: (path: string, init?: RequestInit) => Promise<Response>;
  readonly logger?: Pick<Console, "warn" | "error">;
}

export function buildServices(
  env: Record<string, unknown>,
  dependencies: ServiceDependencies = {},
): EdgeServices {
  const config = parseWorkerConfig(env);
  const keys = createKeyspace(config.keyPrefix);
  const redis = new Redis({ url: config.redisUrl, token: config.redisToken, ...REDIS_CLIENT_OPTIONS });
  const fetchOrigin =
    dependencies.fetchOrigin ??
    ((path: string, init?: RequestInit) => fetch(`${config.originUrl}${path}`, init));
  const cache = new TieredCache({
    l2: createRedisL2Store(redis, keys),
    fetchOrigin: (path, signal) => fetchOrigin(path, { signal }),
    policies: config.policies,
    clock: dependencies.clock ?? systemClock,
    ...(dependencies.logger ? { logger: dependencies.logger } : {}),
    l1MaxBytes: config.l1MaxBytes,
    l1MaxEntries: config.l1MaxEntries,
    syncIntervalMs: config.syncIntervalMs,
    l2SoftTimeoutMs: config.l2SoftTimeoutMs,
    l2HardTimeoutMs: config.l2HardTimeoutMs,
    originTimeoutMs: config.originTimeoutMs,
    ...(config.originVersionParam ? { originVersionParam: config.originVersionParam } : {}),
  });
  const clock = dependencies.clock ?? systemClock;
  const logger = dependencies.logger ?? console;
  return { config, cache, keys, fetchOrigin, clock, logger };
}

export default createEdgeApp((env) => {
  // One isolate normally sees one env object; a new one (a config change) rebuilds.
  if (!services || servicesEnv !== env) {
    services = buildServices(env);
    servicesEnv = env;
  }
  return services;
});
