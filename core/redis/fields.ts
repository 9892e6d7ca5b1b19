/**
 * The names of the Redis storage format: every field name and state string that a
 * Lua script in core/redis and the TypeScript around it must spell the same way.
 *
 * They live here, not in the codecs that use them (core/read-model.ts,
 * core/invalidation-log.ts, lambdas/events/apply.ts), because the scripts are where
 * all of them meet: a script module imports this one file, and so does each codec.
 * A name changed here changes both sides at once; spelled twice, the two could drift.
 */

/**
 * The fields of an L2 record hash (core/read-model.ts). A hash rather than a JSON
 * string, so a script can compare versions with HGET alone (no JSON decoding in Lua):
 *   v  version (monotonic per entity; 0 when the origin gave none)
 *   b  the response body, JSON text, exactly as served
 *   t  tags, space-separated
 *   s  when it was written (ms since epoch)
 *   e  the body's strong ETag (core/etag.ts), computed once by the writer, so an L2 hit costs no
 *      hash of the body; a record without it (written before the field existed) gets one on read
 */
export const L2_FIELDS = { version: "v", body: "b", tags: "t", storedAt: "s", etag: "e" } as const;

/**
 * The fields of an invalidation-log stream entry (core/invalidation-log.ts):
 *   tags   space-separated tags
 *   event  id of the event that caused it (or `manual:<id>` for operator purges)
 *   at     when it was written (ms since epoch)
 */
export const LOG_FIELDS = { tags: "tags", eventId: "event", at: "at" } as const;

/**
 * The field-name prefix of a record pushed in an invalidation-log entry (core/invalidation-log.ts):
 * `r:<tag>` holds `<etag> <body>` of the entity record the event wrote under that tag, so an
 * isolate replaces its L1 copy in place instead of dropping it. An ETag is a quoted hex string
 * with no space, so the first space ends it.
 */
export const LOG_RECORD_FIELD_PREFIX = "r:";

/**
 * What an applied-event marker (core/keys.ts `appliedEvent`) holds: the event's
 * idempotency record. It is set only once the event's Redis step is done, so there is
 * no in-progress state: a failed step leaves no marker and the retry starts over.
 */
export const EVENT_MARKER_STATES = {
  /** Applied; its purges are still owed (a retried delivery does them, and nothing else). */
  applied: "applied",
  /** Its purges are done, or it owed none (a stale event). */
  purged: "purged",
} as const;
export type EventMarkerState = (typeof EVENT_MARKER_STATES)[keyof typeof EVENT_MARKER_STATES];

/** What the apply-event script reports for each event, first in its reply. */
export const APPLY_STATUSES = {
  /** This call wrote it. */
  applied: "applied",
  /** Redis holds a newer (or the same) version: acknowledged, ignored. */
  stale: "stale",
  /** The id was seen before. */
  duplicate: "duplicate",
} as const;
export type ApplyStatus = (typeof APPLY_STATUSES)[keyof typeof APPLY_STATUSES];

/**
 * Second in the apply-event reply, in place of a marker state, for an event this call
 * applied: its purges are owed. (A duplicate or stale event reports its marker state.)
 */
export const PURGES_OWED = "owed";

/** What the fill script reports. */
export const FILL_OUTCOMES = {
  stored: "stored",
  /** Redis holds a newer version: nothing written. */
  older: "older",
  /** The invalidation log names one of the record's tags after the fill's cursor: nothing written. */
  raced: "raced",
} as const;
export type FillOutcome = (typeof FILL_OUTCOMES)[keyof typeof FILL_OUTCOMES];
