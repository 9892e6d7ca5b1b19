/** Response headers of the edge API (docs/architecture.md "Edge HTTP API"). */
import type { CacheAnswer, TierTiming } from "../core/cache/tiered-cache";
import type { DataClassPolicy } from "../core/data-classes";

/**
 * A client's read-your-own-writes token (docs/read-your-own-writes.md): the event app's
 * `syncToken`, the log position this isolate syncs to before it answers.
 */
export const SYNC_TOKEN_HEADER = "X-Sync-Token";
/** On answers to a request with a token: the log position this isolate had synced to. */
export const SYNC_CURSOR_HEADER = "X-Sync-Cursor";

export function serverTiming(timings: readonly TierTiming[]): string {
  return timings.map((timing) => `${timing.tier};dur=${timing.ms.toFixed(1)}`).join(", ");
}

/**
 * Browser and CDN lifetimes per data class; only shareable answers get public ones.
 * `CDN-Cache-Control` is what Workers Cache in front of the Worker holds an answer by (1 s for
 * event-driven classes: core/data-classes.ts); `s-maxage` says the same to other shared caches.
 * `Vary: X-Sync-Token` keeps a copy stored for a request without a token (or with another one)
 * from answering one with a token, in Workers Cache and in the browser alike: such a request
 * must reach the Worker, which syncs past its token first.
 */
export function cachingHeaders(
  answer: CacheAnswer,
  policy: DataClassPolicy,
): Readonly<Record<string, string>> {
  if (!answer.shareable) {
    const passed = answer.passHeaders?.["cache-control"];
    // Only the origin's own private/no-store passes on: a public one beside a Set-Cookie would let
    // caches downstream share one user's cookie.
    if (passed && /(^|[\s,])(private|no-store)([\s,=]|$)/i.test(passed)) return { "Cache-Control": passed };
    return { "Cache-Control": answer.passHeaders?.["set-cookie"] ? "private, no-store" : "no-store" };
  }
  let headers = shareableHeaders.get(policy);
  if (!headers) {
    const staleIfError = Math.round(policy.staleIfErrorMs / 1000);
    headers = {
      "Cache-Control": `public, max-age=${policy.browserMaxAgeSeconds}, s-maxage=${policy.cdnMaxAgeSeconds}, stale-if-error=${staleIfError}`,
      "CDN-Cache-Control": `public, max-age=${policy.cdnMaxAgeSeconds}, stale-if-error=${staleIfError}`,
      Vary: SYNC_TOKEN_HEADER,
    };
    shareableHeaders.set(policy, headers);
  }
  return headers;
}

/** Policies are fixed per isolate: their header strings are built once, not on every L1 hit. */
const shareableHeaders = new WeakMap<DataClassPolicy, Readonly<Record<string, string>>>();

/** RFC 9110 weak comparison: `W/` prefixes from downstream caches still match. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = strip(etag);
  return ifNoneMatch.split(",").some((candidate) => candidate.trim() === "*" || strip(candidate) === wanted);
}
