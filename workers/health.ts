/**
 * `GET /_cache/health`, open to anyone: ok or degraded, and why in one word. What went wrong
 * in detail (Redis's error text names the command, script SHA, keys and the log cursor) is
 * for operators only: `/_cache/stats` (operator token) and the logs.
 */
import type { TieredCacheHealth } from "../core/cache/tiered-cache";

/**
 * `circuit-open`: the breaker stopped calling Redis after repeated failures; `redis-unreachable`:
 * the last invalidation-log read failed and Redis gave no answer (network, timeout);
 * `log-sync-failing`: it failed with an error answer (e.g. a refused token).
 */
export type DegradedReason = "circuit-open" | "redis-unreachable" | "log-sync-failing";

export interface PublicHealth {
  readonly status: "ok" | "degraded";
  readonly reason: DegradedReason | null;
  readonly redis: { readonly reachable: boolean | null; readonly circuit: TieredCacheHealth["circuit"] };
  readonly lastInvalidationSyncAgoMs: number | null;
  readonly isolateAgeMs: number;
}

export function degradedReason(health: TieredCacheHealth): DegradedReason | undefined {
  if (health.circuit !== "closed") return "circuit-open";
  if (health.lastSyncError === undefined) return undefined;
  return health.lastRedisFailure?.kind === "error-reply" ? "log-sync-failing" : "redis-unreachable";
}

export function publicHealth(health: TieredCacheHealth): PublicHealth {
  const reason = degradedReason(health);
  const healthy = reason === undefined;
  return {
    status: healthy ? "ok" : "degraded",
    reason: reason ?? null,
    redis: {
      // Unknown (null) until this isolate has talked to Redis: health checks send no command of their own.
      reachable: health.lastSyncAgoMs === undefined && healthy ? null : healthy,
      circuit: health.circuit,
    },
    lastInvalidationSyncAgoMs: health.lastSyncAgoMs ?? null,
    isolateAgeMs: health.isolateAgeMs,
  };
}
