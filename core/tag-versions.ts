/**
 * Tag versions: why an L2 refill can trust the CDN in front of the origin.
 *
 * The Worker's origin is a CDN (CloudFront) that keeps responses for their s-maxage, and an
 * invalidation takes a while to complete there. After an event drops an aggregate from L2, a
 * refill asking the CDN for the same URL may get the copy from before the event and put it
 * back into L2 for its whole TTL. So the apply-event script (core/redis/apply-event-script.ts)
 * records, in the same atomic step, the invalidation-log id of the event under every tag it
 * names (`keys.tagVersion(tag)`), and on an L2 miss the Worker asks the origin for the path
 * with the newest of its tags' versions as one more query parameter: the CDN keys on every
 * query parameter, so a copy cached before the event sits under another key and never
 * answers. The origin ignores parameters it does not know.
 */
import { compareStreamIds } from "./invalidation-log";

/** The query parameter the Worker uses unless ORIGIN_VERSION_PARAM says otherwise. */
export const DEFAULT_ORIGIN_VERSION_PARAM = "_v";

/**
 * What the parameter's name may be: characters a URL never needs to escape, so the origin
 * and the CDN see the same name the Worker sends.
 */
export const ORIGIN_VERSION_PARAM_PATTERN = /^[A-Za-z0-9_.~-]+$/;
/** The rule in words, for error messages. */
export const ORIGIN_VERSION_PARAM_RULE = "letters, digits, '_', '-', '.' or '~' (a query parameter name)";

/**
 * The longest the CDN in front of the origin keeps a response: the cache policy's max TTL
 * (cdk/lib/constructs/origin-distribution.ts builds it from this).
 */
export const ORIGIN_CDN_MAX_TTL_SECONDS = 24 * 3600;

/**
 * The longest past its TTL a CDN may still serve a copy (stale-while-revalidate while it
 * refreshes, stale-if-error while the origin fails) that tag versions allow for. The sample
 * origin's longest window is a day (dev/origin/http.ts, reference data's stale-if-error);
 * test/core/tag-versions.test.ts holds every one of them below this.
 */
export const CDN_STALE_MARGIN_SECONDS = 2 * 24 * 3600;

/**
 * How long a tag version is kept (3 days). Once it expires, refills ask for the unversioned
 * URL again, so it must outlive every copy of that URL the CDN took before the event: its
 * max TTL plus the stale windows it may serve past it.
 */
export const TAG_VERSION_TTL_SECONDS = ORIGIN_CDN_MAX_TTL_SECONDS + CDN_STALE_MARGIN_SECONDS;

/** A stream id as XADD makes it (`<ms>-<seq>`); anything else in a tag-version key is ignored. */
const STREAM_ID = /^\d+-\d+$/;

/** The newest of the versions read (missing keys are null), compared numerically; undefined when none. */
export function newestTagVersion(versions: readonly (string | null | undefined)[]): string | undefined {
  let newest: string | undefined;
  for (const version of versions) {
    if (typeof version !== "string" || !STREAM_ID.test(version)) continue;
    if (newest === undefined || compareStreamIds(version, newest) > 0) newest = version;
  }
  return newest;
}

/**
 * `path` (with or without a query) plus `param=version`; `path` itself when there is no
 * version or no parameter (versioning off). Only the origin request carries it: the edge's
 * own cache keys never do.
 */
export function versionedOriginPath(
  path: string,
  param: string | undefined,
  version: string | undefined,
): string {
  if (!param || version === undefined) return path;
  const query = path.indexOf("?");
  const separator = query === -1 ? "?" : query === path.length - 1 || path.endsWith("&") ? "" : "&";
  return `${path}${separator}${encodeURIComponent(param)}=${encodeURIComponent(version)}`;
}
