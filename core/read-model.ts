/**
 * How a cached value sits in Redis (L2), for both writers: the event Lambda
 * (write-through of entity records) and the Worker (fills from the origin).
 *
 * A Redis hash; its field names (L2_FIELDS) live in core/redis/fields.ts, beside
 * the scripts that write it.
 */
import { L2_FIELDS } from "./redis/fields";

export interface L2Record {
  readonly version: number;
  readonly body: string;
  readonly tags: readonly string[];
  readonly storedAt: number;
  /** The body's strong ETag (core/etag.ts); absent on records written before it was stored. */
  readonly etag?: string;
}

export function encodeL2Record(record: L2Record): Record<string, string> {
  return {
    [L2_FIELDS.version]: String(record.version),
    [L2_FIELDS.body]: record.body,
    [L2_FIELDS.tags]: record.tags.join(" "),
    [L2_FIELDS.storedAt]: String(record.storedAt),
    [L2_FIELDS.etag]: record.etag ?? "",
  };
}

/** Undefined for a missing or malformed hash (treated as a miss, never served). */
export function decodeL2Record(fields: Record<string, unknown> | null | undefined): L2Record | undefined {
  if (!fields) return undefined;
  const body = fields[L2_FIELDS.body];
  const version = Number(fields[L2_FIELDS.version]);
  const storedAt = Number(fields[L2_FIELDS.storedAt]);
  const tagText = fields[L2_FIELDS.tags];
  const etag = fields[L2_FIELDS.etag];
  if (typeof body !== "string" || !Number.isFinite(version) || !Number.isFinite(storedAt)) return undefined;
  return {
    version,
    body,
    tags: typeof tagText === "string" && tagText !== "" ? tagText.split(" ") : [],
    storedAt,
    ...(typeof etag === "string" && etag !== "" ? { etag } : {}),
  };
}
