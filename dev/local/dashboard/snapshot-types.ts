/**
 * The dashboard's `GET /api/snapshot` body: the stack's counters at one moment, all of them
 * totals since the stack started (or gauges, for the queues), so the page derives rates from
 * two snapshots. Shared by the server (snapshot.ts) and the page (page/): types and plain
 * constants only, so the page's bundle takes nothing from the server side.
 */
import type { EventCountsSnapshot } from "./event-counts";

/** A part the dashboard could not read this time, and why. */
export interface Unavailable {
  readonly unavailable: string;
}

/** A Varnish cache's counters (varnishstat MAIN.*). */
export interface VarnishTier {
  readonly clientRequests: number;
  readonly hits: number;
  readonly misses: number;
  /** Hits on a hit-for-pass or hit-for-miss object: the backend is asked anyway. */
  readonly hitPass: number;
  readonly hitMiss: number;
}

/** The Worker's engine, from its /_cache/stats (core/cache/cache-stats.ts). */
export interface WorkerTier {
  /** Cacheable requests the engine answered: every L1 outcome below. */
  readonly lookups: number;
  readonly l1Hits: number;
  /** Served from L1 past freshness while refreshing. */
  readonly l1Stale: number;
  /** Answered from a remembered origin 404. */
  readonly negativeHits: number;
  readonly l1Misses: number;
  readonly l2Hits: number;
  readonly l2Misses: number;
  /** Origin answers it cached or passed on (private ones counted in `bypass`). */
  readonly originFetches: number;
  readonly bypass: number;
  readonly originErrors: number;
  /** Redis commands the Worker itself counted. */
  readonly redisCommands: number;
  readonly redisErrors: number;
  /**
   * Answers per data class and source (the Worker's `X-Cache`: L1, L2, ORIGIN, STALE, BYPASS),
   * when its /_cache/stats reports them (`answers`).
   */
  readonly byClass?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const PURGE_PROVIDERS = ["workers-cache", "cloudfront", "cloudflare"] as const;
export type PurgeProvider = (typeof PURGE_PROVIDERS)[number];

export interface ProviderPurges {
  /** API calls made to the provider (its fake), accepted or not. */
  readonly sent: number;
  /** Calls the provider accepted. */
  readonly accepted: number;
  /** Messages for this provider on the retry queue now (deferred or failed purges). */
  readonly queued: number;
  /** Messages for this provider on the dead-letter queue now. */
  readonly deadLettered: number;
}

export interface DashboardSnapshot {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly tiers: {
    /** Workers Cache's role: the front Varnish. */
    readonly front: VarnishTier | Unavailable;
    readonly worker: WorkerTier | Unavailable;
    /** CloudFront's role: the back Varnish. */
    readonly back: VarnishTier | Unavailable;
  };
  /** What the REST bridge served: every client's (the Worker's, the event app's, the retry handler's). */
  readonly redis: { readonly requests: number; readonly commands: number };
  readonly events: EventCountsSnapshot;
  readonly purges: Readonly<Record<PurgeProvider, ProviderPurges>>;
  /** Retry-queue messages whose body does not decode (counted under no provider). */
  readonly poisonMessages: number;
}

export function isUnavailable(value: object): value is Unavailable {
  return "unavailable" in value;
}
