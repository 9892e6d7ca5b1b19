/**
 * How old a read through every tier may be, per data class. Taken from the policies the
 * Worker runs with (core/data-classes.ts), never written down per class, so a class whose
 * front TTL changes gets its new bound here too.
 *
 * The chain: an event is applied before its webhook's 202; the Worker's answer reflects every
 * event applied before its last invalidation-log read, which began at most
 * L1_SYNC_INTERVAL_MS before the request reached it (core/cache/log-sync.ts); the front cache
 * keeps that answer for `cdnMaxAgeSeconds` after receiving it (workers/headers.ts sends it as
 * CDN-Cache-Control). So a read sent at t misses no event acknowledged before
 * t − (cdnMaxAge + interval + what the sum leaves out).
 */
import {
  DATA_CLASS_NAMES,
  type DataClassName,
  type DataClassPolicies,
  DEFAULT_DATA_CLASS_POLICIES,
} from "../../core/data-classes";

/**
 * What the sum leaves out: the log read's Redis round trip through the REST bridge, the Worker's
 * own work between that read and the front cache receiving its answer, and the scheduling delays
 * of a dozen processes sharing a small machine. Measured locally these are tens of milliseconds;
 * 500 ms is one sync interval's worth, room for a busy two-core machine, and still half of the
 * smallest amount any real failure adds: one more front TTL (1 s) or a copy from CloudFront's role
 * (s-maxage 5 s for listings, dev/origin/http.ts), so a read that missed an event that way
 * crosses the bound.
 */
export const FRESHNESS_MARGIN_MS = 500;

export interface BoundOptions {
  /** The Worker's L1_SYNC_INTERVAL_MS. */
  readonly syncIntervalMs: number;
  /** The Worker's policies (its CACHE_POLICIES applied over the defaults). */
  readonly policies?: DataClassPolicies;
  readonly marginMs?: number;
}

export function freshnessBoundMs(dataClass: DataClassName, options: BoundOptions): number {
  const policies = options.policies ?? DEFAULT_DATA_CLASS_POLICIES;
  return (
    policies[dataClass].cdnMaxAgeSeconds * 1000 +
    options.syncIntervalMs +
    (options.marginMs ?? FRESHNESS_MARGIN_MS)
  );
}

export function freshnessBounds(options: BoundOptions): Readonly<Record<DataClassName, number>> {
  return Object.fromEntries(
    DATA_CLASS_NAMES.map((name) => [name, freshnessBoundMs(name, options)]),
  ) as Record<DataClassName, number>;
}
