/**
 * The strong ETag of a stored body: the same bytes give the same validator in every tier, every
 * isolate and every writer (the Worker's fills, the event Lambda's write-through), so a 304 from
 * one edge holds at another. Computed once by whoever writes the body and stored beside it
 * (core/redis/fields.ts `L2_FIELDS.etag`), never per read.
 */
const encoder = new TextEncoder();
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export async function strongEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  // One join, not `+=` in a loop: V8 would keep the latter as a chain of 16 fragments per
  // entry, about 700 bytes of heap that L1's byte budget does not see (a flat string is ~70).
  return `"${Array.from(digest.subarray(0, 16), (byte) => HEX_BYTES[byte]).join("")}"`;
}

/** What a strong ETag of ours looks like: a quoted run of hex digits, so never a space. */
export const STRONG_ETAG_PATTERN = /^"[0-9a-f]{1,64}"$/;
