/**
 * How the per-isolate structures (L1, its tag index, the negative cache, the tag history,
 * pending shared work, the Worker's lookup memo and reference lists) count their bytes
 * against their budgets. An isolate has 128 MB for everything (Workers platform limit), and
 * V8 reports no size per object, so the counts are estimates meant to err high: two bytes
 * per UTF-16 code unit (V8 keeps ASCII strings in one), plus a flat allowance for each
 * object, map slot and string header.
 */

/** A string's characters as UTF-16, plus its header. */
export function stringBytes(text: string): number {
  return text.length * 2 + STRING_HEADER_BYTES;
}

export const STRING_HEADER_BYTES = 16;
/** A small object or array: its header and a few slots. */
export const OBJECT_BYTES = 64;
/** One slot of a Map, Set or lru-cache (key, value, links). */
export const SLOT_BYTES = 48;

/** What a bounded structure holds now and may hold at most. */
export interface MemoryUsage {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
}
