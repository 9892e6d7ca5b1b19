/**
 * The Worker's memo of resolved routes: request URL → lookup, so a hot URL is validated and
 * normalised once per isolate. URLs are chosen by whoever sends the request (a URL of 4 KiB
 * with junk parameters is as valid as a short one), so the memo is bounded by the bytes it
 * holds, not by a count: 5,000 such URLs would otherwise be tens of MiB of an isolate's 128 MB.
 */
import { LruMap } from "../core/cache/lru-map";
import { type MemoryUsage, OBJECT_BYTES, SLOT_BYTES, stringBytes } from "../core/cache/memory-usage";
import type { RouteLookup } from "./routes";

/** About 8,000 URLs of 100 characters, or 250 of the longest accepted (4 KiB). */
export const DEFAULT_LOOKUP_MEMO_MAX_BYTES = 4 * 1024 * 1024;

/** A URL and its lookup, counted whole: the lookup's strings are counted even where they are shared. */
export function memoEntryBytes(url: string, lookup: RouteLookup): number {
  let bytes = stringBytes(url) + SLOT_BYTES + OBJECT_BYTES;
  bytes += stringBytes(lookup.key) + stringBytes(lookup.l2Key) + stringBytes(lookup.originPath);
  bytes += stringBytes(lookup.dataClass) + OBJECT_BYTES;
  for (const tag of lookup.tags) bytes += stringBytes(tag);
  for (const check of lookup.references ?? []) {
    bytes += OBJECT_BYTES + stringBytes(check.parameter) + stringBytes(check.list) + stringBytes(check.value);
  }
  return bytes;
}

export class LookupMemo {
  private readonly memo: LruMap<string, RouteLookup>;

  constructor(readonly maxBytes: number = DEFAULT_LOOKUP_MEMO_MAX_BYTES) {
    this.memo = new LruMap<string, RouteLookup>({
      maxBytes,
      sizeOf: (lookup, url) => memoEntryBytes(url, lookup),
    });
  }

  get(url: string): RouteLookup | undefined {
    return this.memo.get(url);
  }

  set(url: string, lookup: RouteLookup): void {
    this.memo.set(url, lookup);
  }

  get usage(): MemoryUsage {
    return { entries: this.memo.size, bytes: this.memo.calculatedSize, maxBytes: this.maxBytes };
  }
}
