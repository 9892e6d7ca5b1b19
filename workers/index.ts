/**
 * The edge Worker's entry. Services are built once per isolate, on the first
 * request (bindings only arrive with a request), and live in module scope for the
 * isolate's lifetime: L1, the invalidation-log cursor and the counters with them, the
 * lookup memo and the reference lists, each bounded in bytes (`memory` in /_cache/stats).
 * The log is built with the module, and the telemetry with the first env it sees (the
 * Analytics Engine binding `EDGE_METRICS` arrives with it): a bad configuration still gets
 * its requests logged and counted.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { createRedisL2Store } from "../core/cache/l2-store";
import { TieredCache, type WaitUntil } from "../core/cache/tiered-cache";
import { createKeyspace } from "../core/keys";
import { type Clock, systemClock } from "../core/time/clock";
import { warmListingViews } from "../core/views/warm-listing-views";
import { createEdgeApp, type EdgeServices } from "./app";
import { parseWorkerConfig } from "./config";
import { engineSettings } from "./engine-settings";
import { LookupMemo } from "./lookup-memo";
import { ReferenceCatalog } from "./reference-catalog";
import {
  ANALYTICS_BINDING,
  createEdgeLog,
  createTelemetry,
  type EdgeLog,
  type EdgeTelemetry,
  engineLogger,
} from "./telemetry";

let services: EdgeServices | undefined;
let servicesEnv: Record<string, unknown> | undefined;
let telemetry: EdgeTelemetry | undefined;
let telemetryEnv: Record<string, unknown> | undefined;
const isolateLog = createEdgeLog();

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
  /** Where the log goes (default: the console, as Workers Logs reads it); unused when `telemetry` is given. */
  readonly log?: EdgeLog;
  readonly telemetry?: EdgeTelemetry;
}

/** The telemetry of an env: its EDGE_METRICS binding, else points kept in memory. */
export function buildTelemetry(
  env: Record<string, unknown>,
  dependencies: Pick<ServiceDependencies, "clock" | "log"> = {},
): EdgeTelemetry {
  return createTelemetry({
    log: dependencies.log ?? isolateLog,
    clock: dependencies.clock ?? systemClock,
    analytics: env[ANALYTICS_BINDING],
  });
}

export function buildServices(
  env: Record<string, unknown>,
  dependencies: ServiceDependencies = {},
): EdgeServices {
  const telemetry = dependencies.telemetry ?? buildTelemetry(env, dependencies);
  const config = parseWorkerConfig(env);
  const keys = createKeyspace(config.keyPrefix);
  const redis = new Redis({ url: config.redisUrl, token: config.redisToken, ...REDIS_CLIENT_OPTIONS });
  const fetchOrigin =
    dependencies.fetchOrigin ??
    ((path: string, init?: RequestInit) => fetch(`${config.originUrl}${path}`, init));
  const clock = dependencies.clock ?? systemClock;
  const logger = engineLogger(telemetry.log);
  // The first listing that finds the views unwarmed (or due) warms them, after its answer; the
  // lock in Redis keeps it to one isolate at a time (core/views/warm-listing-views.ts).
  const warmViews = (ctx: WaitUntil) =>
    ctx.waitUntil(
      warmListingViews({
        redis,
        keys,
        fetchOrigin: (path) => fetchOrigin(path),
        clock,
        policies: config.policies,
        ...(config.originVersionParam ? { cacheBuster: { param: config.originVersionParam } } : {}),
      }).catch((error: unknown) => logger.warn("listing views warm failed", error)),
    );
  const cache = new TieredCache({
    l2: createRedisL2Store(redis, keys),
    fetchOrigin: (path, signal) => fetchOrigin(path, { signal }),
    clock,
    logger,
    onViewsDue: warmViews,
    ...engineSettings(config),
  });
  const lookups = new LookupMemo(config.lookupMemoMaxBytes);
  const references = new ReferenceCatalog({ cache, keys, clock, log: telemetry.log });
  return { config, cache, keys, fetchOrigin, clock, telemetry, lookups, references };
}

function telemetryFor(env: Record<string, unknown>): EdgeTelemetry {
  if (!telemetry || telemetryEnv !== env) {
    telemetry = buildTelemetry(env);
    telemetryEnv = env;
  }
  return telemetry;
}

export default createEdgeApp((env) => {
  // One isolate normally sees one env object; a new one (a config change) rebuilds.
  if (!services || servicesEnv !== env) {
    services = buildServices(env, { telemetry: telemetryFor(env) });
    servicesEnv = env;
  }
  return services;
}, telemetryFor);
