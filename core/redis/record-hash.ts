/**
 * Writing an L2 record hash from a script, both halves in one place: the Lua that
 * reads a stored version and writes a record, and the TypeScript that lays out the
 * script arguments those lines read. The fill script (the Worker's fills) and the
 * apply-event script (the Lambda's write-through) both use them, so the two writers
 * of a record cannot disagree on its fields or on which argument holds which.
 *
 * A record travels as six consecutive ARGV slots: version, body, tags, storedAt, etag, ttlMs.
 */
import { L2_FIELDS } from "./fields";

/** How many ARGV slots one record takes. */
export const RECORD_ARGUMENT_COUNT = 6;

/** Lua expression: the version stored in the record hash at `key`, or -1 when there is none. */
export function storedVersionLua(key: string): string {
  return `tonumber(redis.call('HGET', ${key}, '${L2_FIELDS.version}') or '-1')`;
}

/**
 * Lua statements: write the record hash at `key` and its expiry. `argument(offset)` is
 * the Lua expression for the record's ARGV slot `offset` (0 = version … 4 = etag, 5 = ttlMs).
 * `indent` goes before every line after the first, which the caller's template indents.
 */
export function writeRecordLua(key: string, argument: (offset: number) => string, indent = ""): string {
  return [
    `redis.call('HSET', ${key}, '${L2_FIELDS.version}', ${argument(0)}, '${L2_FIELDS.body}', ${argument(1)}, '${L2_FIELDS.tags}', ${argument(2)}, '${L2_FIELDS.storedAt}', ${argument(3)}, '${L2_FIELDS.etag}', ${argument(4)})`,
    `redis.call('PEXPIRE', ${key}, ${argument(5)})`,
  ].join(`\n${indent}`);
}

/**
 * The record's ARGV slots, in the order writeRecordLua reads them, from its hash fields as
 * core/read-model.ts `encodeL2Record` gives them (taken encoded, so core/redis stays below
 * the codecs that import its names).
 */
export function recordArguments(fields: Readonly<Record<string, string>>, ttlMs: string): string[] {
  return [
    fields[L2_FIELDS.version] ?? "0",
    fields[L2_FIELDS.body] ?? "",
    fields[L2_FIELDS.tags] ?? "",
    fields[L2_FIELDS.storedAt] ?? "0",
    fields[L2_FIELDS.etag] ?? "",
    ttlMs,
  ];
}
