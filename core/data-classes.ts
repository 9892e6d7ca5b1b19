/**
 * Freshness policy per data class (docs/architecture.md "Data classes"). Events make freshness
 * immediate; these times only bound the damage of a lost event or an outage.
 */
export const DATA_CLASS_NAMES = [
  "availability",
  "pricing",
  "gpu",
  "provider",
  "market-stats",
  "order-book",
  "reference",
] as const;
export type DataClassName = (typeof DATA_CLASS_NAMES)[number];

export interface DataClassPolicy {
  /** L1 serves without revalidating until this age. */
  readonly l1FreshMs: number;
  /** Past fresh and up to this age L1 serves stale while one background refresh runs. */
  readonly l1MaxMs: number;
  /** Safety-net expiry of the Redis copy. */
  readonly l2TtlSeconds: number;
  /**
   * How long a shared HTTP cache in front of the Worker (Workers Cache; `s-maxage` and
   * `CDN-Cache-Control: max-age`, workers/headers.ts) may hold an answer of this class.
   */
  readonly cdnMaxAgeSeconds: number;
  /** `max-age` for browsers. */
  readonly browserMaxAgeSeconds: number;
  /** How long past its max age a copy may still be served while the tier below fails. */
  readonly staleIfErrorMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The front tier (Workers Cache, in front of the Worker) is held by its TTL, not by purges:
 * it allows 5 purge calls a minute (a bucket of 25) whatever the plan, and events arrive
 * several a second, so purging it per event is impossible. Every class an event changes
 * therefore gets a front TTL of 1 s: an answer there is at most 1 s older than the one the
 * Worker would give, and the Worker's reflects an event within L1_SYNC_INTERVAL_MS plus one
 * Redis round trip (workers/config.ts), so at the front the bound is that plus 1 s, with no
 * purge at all. It still absorbs a hot key's burst: about one Worker call per key per second
 * per location. Reference data changes
 * by hand, rarely: it keeps an hour at the front and is purged by tag through the Worker's
 * signed purge endpoint (workers/cache-purge/).
 */
const FRONT_TTL_SECONDS = 1;

/**
 * The classes whose every change reaches the invalidation log as an event (docs/architecture.md
 * "Data classes"): bookings, status, price, provider, stats and order-book events name their tags.
 * For them the log, not a TTL, bounds staleness (sync interval + one Redis round trip), so their
 * L1 fresh windows are long enough that revalidation is the exception: a hot key is re-read about
 * once a few minutes per isolate, not every few seconds. Their TTLs stay as the bound on the one
 * thing the log cannot see, an event the booking system never sent. Reference data changes by
 * hand (an operator's purge): it keeps windows of its own.
 */
export const EVENT_COVERED_CLASSES: ReadonlySet<DataClassName> = new Set(
  DATA_CLASS_NAMES.filter((name) => name !== "reference"),
);

export const DEFAULT_DATA_CLASS_POLICIES: Readonly<Record<DataClassName, DataClassPolicy>> = {
  availability: policy(MINUTE, 5 * MINUTE, 5 * MINUTE, FRONT_TTL_SECONDS, 0, 60 * SECOND),
  pricing: policy(5 * MINUTE, 15 * MINUTE, 15 * MINUTE, FRONT_TTL_SECONDS, 10, 5 * MINUTE),
  gpu: policy(5 * MINUTE, 30 * MINUTE, HOUR, FRONT_TTL_SECONDS, 30, 10 * MINUTE),
  provider: policy(5 * MINUTE, 15 * MINUTE, 15 * MINUTE, FRONT_TTL_SECONDS, 10, 5 * MINUTE),
  "market-stats": policy(MINUTE, 5 * MINUTE, 5 * MINUTE, FRONT_TTL_SECONDS, 5, 5 * MINUTE),
  "order-book": policy(30 * SECOND, 2 * MINUTE, MINUTE, FRONT_TTL_SECONDS, 0, 30 * SECOND),
  reference: policy(5 * MINUTE, 30 * MINUTE, 24 * HOUR, 3600, 300, 24 * HOUR),
};

function policy(
  l1FreshMs: number,
  l1MaxMs: number,
  l2TtlMs: number,
  cdnMaxAgeSeconds: number,
  browserMaxAgeSeconds: number,
  staleIfErrorMs: number,
): DataClassPolicy {
  return {
    l1FreshMs,
    l1MaxMs,
    l2TtlSeconds: l2TtlMs / SECOND,
    cdnMaxAgeSeconds,
    browserMaxAgeSeconds,
    staleIfErrorMs,
  };
}

export type DataClassPolicies = Readonly<Record<DataClassName, DataClassPolicy>>;

const POLICY_FIELDS = [
  "l1FreshMs",
  "l1MaxMs",
  "l2TtlSeconds",
  "cdnMaxAgeSeconds",
  "browserMaxAgeSeconds",
  "staleIfErrorMs",
] as const satisfies ReadonlyArray<keyof DataClassPolicy>;

/**
 * Applies overrides given as JSON, e.g. `{"availability":{"l1FreshMs":2000}}`.
 * Returns the merged policies, or the list of problems (every one, not the first).
 */
export function applyPolicyOverrides(
  overrides: unknown,
  base: DataClassPolicies = DEFAULT_DATA_CLASS_POLICIES,
): { policies: DataClassPolicies; problems: string[] } {
  const problems: string[] = [];
  const merged = { ...base } as Record<DataClassName, DataClassPolicy>;
  if (overrides === undefined || overrides === null) return { policies: merged, problems };
  if (typeof overrides !== "object" || Array.isArray(overrides)) {
    return { policies: merged, problems: ["must be a JSON object of data class → settings"] };
  }
  for (const [name, settings] of Object.entries(overrides)) {
    if (!(DATA_CLASS_NAMES as readonly string[]).includes(name)) {
      problems.push(`unknown data class '${name}' (known: ${DATA_CLASS_NAMES.join(", ")})`);
      continue;
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
      problems.push(`${name}: must be an object`);
      continue;
    }
    const next: Record<string, number> = { ...merged[name as DataClassName] };
    for (const [field, value] of Object.entries(settings)) {
      if (!(POLICY_FIELDS as readonly string[]).includes(field)) {
        problems.push(`${name}.${field}: unknown setting (known: ${POLICY_FIELDS.join(", ")})`);
      } else if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        problems.push(`${name}.${field}: must be a non-negative number`);
      } else {
        next[field] = value;
      }
    }
    const candidate = next as unknown as DataClassPolicy;
    if (candidate.l1FreshMs > candidate.l1MaxMs) problems.push(`${name}: l1FreshMs must not exceed l1MaxMs`);
    merged[name as DataClassName] = candidate;
  }
  return { policies: merged, problems };
}
