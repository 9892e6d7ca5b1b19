/**
 * The invalidation log (docs/architecture.md "Freshness protocol"): a capped Redis stream the
 * event Lambda appends to on every change and the Worker isolates read at most
 * once per L1_SYNC_INTERVAL_MS. An entry names the tags that changed.
 *
 * Its stream fields (LOG_FIELDS) live in core/redis/fields.ts, beside the scripts
 * that write and read them.
 */
import { LOG_FIELDS } from "./redis/fields";

export interface InvalidationLogEntry {
  /** The stream id Redis gave it (`<ms>-<seq>`). */
  readonly id: string;
  readonly tags: readonly string[];
  readonly eventId: string;
  readonly at: number;
}

/** Approximate cap (`XADD … MAXLEN ~`): far more entries than one sync interval ever sees. */
export const INVALIDATION_LOG_MAX_LENGTH = 10_000;

export function encodeLogFields(entry: Omit<InvalidationLogEntry, "id">): Record<string, string> {
  return {
    [LOG_FIELDS.tags]: entry.tags.join(" "),
    [LOG_FIELDS.eventId]: entry.eventId,
    [LOG_FIELDS.at]: String(entry.at),
  };
}

/** Stream fields arrive as a flat [field, value, …] array. */
export function decodeLogEntry(id: string, flatFields: readonly unknown[]): InvalidationLogEntry {
  const fields = new Map<string, string>();
  for (let index = 0; index + 1 < flatFields.length; index += 2) {
    fields.set(String(flatFields[index]), String(flatFields[index + 1]));
  }
  const tagText = fields.get(LOG_FIELDS.tags) ?? "";
  return {
    id,
    tags: tagText === "" ? [] : tagText.split(" "),
    eventId: fields.get(LOG_FIELDS.eventId) ?? "",
    at: Number(fields.get(LOG_FIELDS.at) ?? 0),
  };
}

/** Compares stream ids numerically (`<ms>-<seq>`): negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}
