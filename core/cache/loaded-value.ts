/**
 * What a load below L1 brings back, from L2 or from the origin, and the strong ETag
 * every storable body carries (the same bytes give the same validator in every tier
 * and every isolate).
 */
import type { L2Record } from "../read-model";

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

const encoder = new TextEncoder();
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export async function strongEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  // One join, not `+=` in a loop: V8 would keep the latter as a chain of 16 fragments per
  // entry, about 700 bytes of heap that L1's byte budget does not see (a flat string is ~70).
  return `"${Array.from(digest.subarray(0, 16), (byte) => HEX_BYTES[byte]).join("")}"`;
}

/** An L2 hit: the event Lambda stores JSON bodies only. */
export async function loadedFromL2(
  record: Pick<L2Record, "body" | "version">,
  timings: TierTiming[],
): Promise<LoadedValue> {
  return {
    status: 200,
    body: record.body,
    contentType: JSON_CONTENT_TYPE,
    source: "L2",
    storable: true,
    etag: await strongEtag(record.body),
    version: record.version,
    timings,
  };
}
