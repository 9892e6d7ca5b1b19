/**
 * The invalidation log (docs/architecture.md "Freshness protocol"): a capped Redis stream the
 * event Lambda appends to on every change and the Worker isolates read at most
 * once per L1_SYNC_INTERVAL_MS. An entry names the tags that changed.
 *
 * Its stream fields (LOG_FIELDS) live in core/redis/fields.ts, beside the scripts
 * that write and read them.
 */
import { LOG_FIELDS, LOG_RECORD_FIELD_PREFIX } from "./redis/fields";

export interface InvalidationLogEntry {
  /** The stream id Redis gave it (`<ms>-<seq>`). */
  readonly id: string;
  readonly tags: readonly string[];
  readonly eventId: string;
  readonly at: number;
  /** Entity records the event wrote, by their tag (within LOG_PUSH_MAX_BYTES): L1 copies are replaced in place. */
  readonly records: readonly PushedRecord[];
}

/** An entity record carried by a log entry. */
export interface PushedRecord {
  readonly tag: string;
  readonly etag: string;
  readonly body: string;
}

/**
 * The most record bytes one entry carries. Every isolate reads every entry, and the log keeps
 * about INVALIDATION_LOG_MAX_LENGTH of them, so this bounds both what a sync reads (a booking's
 * GPU and stats records are well under it) and what the log holds in Redis (at most ~40 MiB).
 * A pricing change that rewrites hundreds of GPUs pushes the first ones and drops the rest.
 */
export const LOG_PUSH_MAX_BYTES = 4 * 1024;

/** Approximate cap (`XADD … MAXLEN ~`): far more entries than one sync interval ever sees. */
export const INVALIDATION_LOG_MAX_LENGTH = 10_000;

export function encodeLogFields(entry: Omit<InvalidationLogEntry, "id" | "records">): Record<string, string> {
  return {
    [LOG_FIELDS.tags]: entry.tags.join(" "),
    [LOG_FIELDS.eventId]: entry.eventId,
    [LOG_FIELDS.at]: String(entry.at),
  };
}

/** Stream fields arrive as a flat [field, value, …] array. */
export function decodeLogEntry(id: string, flatFields: readonly unknown[]): InvalidationLogEntry {
  const fields = new Map<string, string>();
  const records: PushedRecord[] = [];
  for (let index = 0; index + 1 < flatFields.length; index += 2) {
    const name = String(flatFields[index]);
    const value = String(flatFields[index + 1]);
    if (name.startsWith(LOG_RECORD_FIELD_PREFIX)) {
      const space = value.indexOf(" ");
      // Malformed (no ETag): not pushed; the tag is still in `tags`, so the copy is dropped.
      if (space > 0)
        records.push({
          tag: name.slice(LOG_RECORD_FIELD_PREFIX.length),
          etag: value.slice(0, space),
          body: value.slice(space + 1),
        });
    } else fields.set(name, value);
  }
  const tagText = fields.get(LOG_FIELDS.tags) ?? "";
  return {
    id,
    tags: tagText === "" ? [] : tagText.split(" "),
    eventId: fields.get(LOG_FIELDS.eventId) ?? "",
    at: Number(fields.get(LOG_FIELDS.at) ?? 0),
    records,
  };
}

/** Compares stream ids numerically (`<ms>-<seq>`): negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}
