/**
 * One Workers Analytics Engine data point per answered request, and the one place that says
 * which field is which column: Analytics Engine stores blobs and doubles by position only
 * (`blob1` … `blob20`, `double1` … `double20`), so the SQL that reads them (README "Worker
 * observability") follows DATA_POINT_LAYOUT, and test/workers/telemetry.test.ts holds the
 * points written to it.
 */

/** The binding wrangler.toml declares for the points (`[[analytics_engine_datasets]]`), in every environment. */
export const ANALYTICS_BINDING = "EDGE_METRICS";
/** Production's dataset (and the top level's); staging and development write to `<this>_<environment>`. */
export const ANALYTICS_DATASET = "gpu_edge_cache";

/** What the Worker observed of one answered request. A field that does not apply is `none`. */
export interface RequestObservation {
  /** The route pattern that answered (`/v1/gpus/:gpuId`), `unmatched` for a 404 or a refused URL. */
  readonly route: string;
  readonly method: string;
  /** The lookup's data class (core/data-classes.ts), `none` off the cached routes. */
  readonly dataClass: string;
  /** `X-Cache` as answered: L1, L2, ORIGIN, STALE, BYPASS, or `none`. */
  readonly tier: string;
  readonly status: number;
  /** `X-Cache-Stale`: `revalidating` or `error`, else `none`. */
  readonly stale: string;
  /** Cloudflare's data centre (`request.cf.colo`), `none` where the runtime gives none. */
  readonly colo: string;
  readonly outcome: RequestOutcome;
  /** From the request's arrival to its answer, on the Worker's clock (I/O waits only: see README). */
  readonly latencyMs: number;
  /** How long ago this isolate last read the invalidation log; undefined before its first read. */
  readonly syncAgeMs: number | undefined;
}

/**
 * One word per answer: `hit` (L1 or L2, a negative entry and a 304 included), `miss` (the
 * origin), `stale`, `bypass` (never cached), `rejected` (a 4xx the Worker gave: bad input, no
 * token, no route, wrong method), `served` (an operator endpoint's answer), `error` (5xx).
 */
export type RequestOutcome = "hit" | "miss" | "stale" | "bypass" | "rejected" | "served" | "error";

export function outcomeOf(tier: string, status: number): RequestOutcome {
  if (status >= 500) return "error";
  if (tier === "L1" || tier === "L2") return "hit";
  if (tier === "ORIGIN") return "miss";
  if (tier === "STALE") return "stale";
  if (status >= 400) return "rejected";
  return tier === "BYPASS" ? "bypass" : "served";
}

/** Written in place of a sync age before the isolate's first log read (a double cannot be empty). */
export const NO_SYNC_AGE = -1;

export type BlobField = "route" | "dataClass" | "tier" | "status" | "stale" | "colo" | "outcome" | "method";
export type DoubleField = "latencyMs" | "syncAgeMs" | "status";

/**
 * Column N of each list is `blobN` / `doubleN` in SQL. Append only: a moved field would
 * change the meaning of every point already stored.
 */
export const DATA_POINT_LAYOUT = {
  /** The sampling key (`index1`): Analytics Engine samples within an index value, never across. */
  index: "dataClass, else route",
  blobs: ["route", "dataClass", "tier", "status", "stale", "colo", "outcome", "method"],
  doubles: ["latencyMs", "syncAgeMs", "status"],
} as const satisfies {
  readonly index: string;
  readonly blobs: readonly BlobField[];
  readonly doubles: readonly DoubleField[];
};

/** The SQL column of a blob field: `blob3` for `tier`. */
export function blobColumn(field: BlobField): string {
  return `blob${DATA_POINT_LAYOUT.blobs.indexOf(field) + 1}`;
}

/** The SQL column of a double field: `double1` for `latencyMs`. */
export function doubleColumn(field: DoubleField): string {
  return `double${DATA_POINT_LAYOUT.doubles.indexOf(field) + 1}`;
}

/** The shape `AnalyticsEngineDataset.writeDataPoint` takes (workers-types), typed here for Node too. */
export interface DataPoint {
  // Mutable arrays, as workers-types' AnalyticsEngineDataPoint has them, so the binding fits DataPointWriter.
  readonly indexes: string[];
  readonly blobs: string[];
  readonly doubles: number[];
}

/** Analytics Engine's limits on one point: an index of at most 96 bytes, 20 blobs, 20 doubles. */
export const DATA_POINT_LIMITS = { indexBytes: 96, blobs: 20, doubles: 20, blobBytes: 16 * 1024 } as const;

/** Blobs are the Worker's own words and route patterns, but a route is cut to stay well within the limits. */
const MAX_BLOB_LENGTH = 256;

export function dataPointOf(observation: RequestObservation): DataPoint {
  const values: Record<BlobField, string> = {
    route: observation.route.slice(0, MAX_BLOB_LENGTH),
    dataClass: observation.dataClass,
    tier: observation.tier,
    status: String(observation.status),
    stale: observation.stale,
    colo: observation.colo,
    outcome: observation.outcome,
    method: observation.method.slice(0, 16),
  };
  const numbers: Record<DoubleField, number> = {
    latencyMs: observation.latencyMs,
    syncAgeMs: observation.syncAgeMs ?? NO_SYNC_AGE,
    status: observation.status,
  };
  const index = observation.dataClass === "none" ? observation.route : observation.dataClass;
  return {
    // Route patterns and class names are ASCII: characters are bytes.
    indexes: [index.slice(0, DATA_POINT_LIMITS.indexBytes)],
    blobs: DATA_POINT_LAYOUT.blobs.map((field) => values[field]),
    doubles: DATA_POINT_LAYOUT.doubles.map((field) => numbers[field]),
  };
}
