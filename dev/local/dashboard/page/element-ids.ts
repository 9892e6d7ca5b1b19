/**
 * The page's element ids and data attributes: the one list the page (main.ts) draws into and
 * the browser test (test/dev/local/dashboard.test.ts) reads, so neither can rename one alone.
 *
 * - Every tile carries `data-value`: its number unformatted ("" while unknown); its text is for people.
 * - Every chart's container carries `data-points` (samples drawn, one a second, the last
 *   MAX_POINTS) and `data-sum` (the sum of every value drawn in it, all series), which changes
 *   whenever what the chart shows does.
 * - The status element carries `data-state`: `connecting`, `live` (the last poll answered) or
 *   `error` (its text says why), and `data-polls` (answered polls so far).
 */
export const TILE_IDS = {
  /** Cacheable requests the Worker's engine answered, since start. */
  workerRequests: "tile-worker-requests",
  /** Front Varnish (Workers Cache's role) hits / (hits + misses), since start, in %. */
  frontHitRatio: "tile-front-hit-ratio",
  /** Requests the Worker answered from L1, of all its lookups, since start, in %. */
  l1HitRatio: "tile-l1-hit-ratio",
  /** Bridge commands (every client) per 1,000 Worker requests, since start. */
  redisPer1k: "tile-redis-per-1k",
  /** Events the event app applied, since start. */
  eventsApplied: "tile-events-applied",
  /** Stale and duplicate events, since start. */
  eventsIgnored: "tile-events-ignored",
  /** Propagation (answer time minus `occurredAt`) p50 and p99 over the last minute, in ms: data-value is p99. */
  propagation: "tile-propagation",
  /** Purge API calls to every provider, since start. */
  purgesSent: "tile-purges-sent",
  /** Retry-queue messages now. */
  purgesQueued: "tile-purges-queued",
  /** Dead-letter-queue messages now. */
  purgesDeadLettered: "tile-purges-dead-lettered",
} as const;

export const CHART_IDS = {
  /** Requests/s by tier: front, Worker, L2 (Redis reads), origin fetches, back. */
  requests: "chart-requests",
  /** Hit ratio (%) over the last 10 s: front, L1, L2, back. */
  hitRatio: "chart-hit-ratio",
  /** Redis commands per 1,000 Worker requests over the last 10 s. */
  redis: "chart-redis",
  /** Events applied/s (left axis) and propagation p50/p99 in ms (right axis). */
  events: "chart-events",
  /** Purge calls sent per provider (totals), and messages queued and dead-lettered now. */
  purges: "chart-purges",
} as const;

export const STATUS_ID = "dashboard-status";
/** Per data class: Worker answers, answers/s, and the L1, L2 and origin shares (a <tbody>). */
export const CLASSES_TABLE_ID = "table-classes";
/** Per event type: applied, stale, duplicate (a <tbody>). */
export const EVENTS_TABLE_ID = "table-events";
/** Per provider: sent, accepted, queued, dead-lettered (a <tbody>). */
export const PURGES_TABLE_ID = "table-purges";
/** One line per part the last snapshot could not read (a <ul>). */
export const NOTES_ID = "dashboard-notes";

/** Samples each chart keeps: five minutes at one a second. */
export const MAX_POINTS = 300;
/** How often the page asks for a snapshot. */
export const POLL_INTERVAL_MS = 1_000;
