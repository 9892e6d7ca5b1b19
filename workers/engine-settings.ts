/**
 * The Worker's settings as the tiered-cache engine takes them: one mapping, so the Worker and
 * anything that builds the engine the way the Worker does (the chaos suite) cannot drift apart.
 */
import type { TieredCacheOptions } from "../core/cache/tiered-cache";
import type { WorkerConfig } from "./config";

export type EngineSettings = Pick<
  TieredCacheOptions,
  | "policies"
  | "l1MaxBytes"
  | "l1MaxEntries"
  | "syncIntervalMs"
  | "l2SoftTimeoutMs"
  | "l2HardTimeoutMs"
  | "originTimeoutMs"
  | "originVersionParam"
  | "negativeCacheMs"
  | "negativeCacheMaxBytes"
  | "pendingWorkMaxBytes"
  | "viewsRefreshMs"
  | "listingViews"
>;

export function engineSettings(config: WorkerConfig): EngineSettings {
  return {
    policies: config.policies,
    l1MaxBytes: config.l1MaxBytes,
    l1MaxEntries: config.l1MaxEntries,
    syncIntervalMs: config.syncIntervalMs,
    l2SoftTimeoutMs: config.l2SoftTimeoutMs,
    l2HardTimeoutMs: config.l2HardTimeoutMs,
    originTimeoutMs: config.originTimeoutMs,
    // An empty parameter name turns versioned refills off (ORIGIN_VERSION_PARAM="").
    ...(config.originVersionParam ? { originVersionParam: config.originVersionParam } : {}),
    negativeCacheMs: config.negativeCacheMs,
    negativeCacheMaxBytes: config.negativeCacheMaxBytes,
    pendingWorkMaxBytes: config.pendingWorkMaxBytes,
    // The views' safety net for a lost event is the listing class's L2 TTL, as for a stored copy.
    viewsRefreshMs: config.policies.availability.l2TtlSeconds * 1000,
    listingViews: config.listingViews === "on",
  };
}
