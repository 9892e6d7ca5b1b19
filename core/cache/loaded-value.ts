/**
 * What a load below L1 brings back, from L2 or from the origin, and the strong ETag
 * every storable body carries (the same bytes give the same validator in every tier
 * and every isolate).
 */

import { strongEtag } from "../etag";
import type { L2Record } from "../read-model";

export { strongEtag };

export interface TierTiming {
  readonly tier: "sync" | "l1" | "l2" | "origin";
  readonly ms: number;
}

export interface LoadedValue {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly source: "L2" | "ORIGIN" | "BYPASS";
  /** May go into L1 and L2 (a public 200). */
  readonly storable: boolean;
  readonly etag: string | undefined;
  /** The origin's X-Origin-Version (0 when it has none): an L2 fill never overwrites a newer one. */
  readonly version: number;
  readonly timings: TierTiming[];
  readonly passHeaders?: Record<string, string>;
  /** The path the origin was asked, tag version included: followers of a private answer ask the same. */
  readonly originPath?: string;
}

export const JSON_CONTENT_TYPE = "application/json";

/**
 * An L2 hit: the event Lambda stores JSON bodies only. The record's stored ETag is used as it
 * is; only a record from before the field existed has its body hashed here.
 */
export function loadedFromL2(
  record: Pick<L2Record, "body" | "version" | "etag">,
  timings: TierTiming[],
): LoadedValue | Promise<LoadedValue> {
  const loaded = (etag: string): LoadedValue => ({
    status: 200,
    body: record.body,
    contentType: JSON_CONTENT_TYPE,
    source: "L2",
    storable: true,
    etag,
    version: record.version,
    timings,
  });
  return record.etag === undefined ? strongEtag(record.body).then(loaded) : loaded(record.etag);
}
