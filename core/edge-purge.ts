/**
 * The Worker's signed purge endpoint as both sides see it: the Worker parses and checks
 * these bodies (workers/cache-purge/), the event side's Workers Cache purger plans and
 * sends them (lambdas/purge/workers-cache/). Written once so the two cannot disagree on a
 * limit or a field.
 *
 * `POST /_cache/purge`, Standard Webhooks signed, with
 * `{ "tags"?: string[], "pathPrefixes"?: string[], "purgeEverything"?: true, "mode"?: "purge" | "invalidate" }`:
 * exactly one of the three targets.
 */
export const EDGE_PURGE_PATH = "/_cache/purge";

export const EDGE_PURGE_LIMITS = {
  /** Bodies past this are refused before they are read. */
  bodyBytes: 128 * 1024,
  /** Per call, as Cloudflare's purge API takes (at most 100 operations a request). */
  tagsPerCall: 100,
  prefixesPerCall: 100,
  /** Cloudflare's limit for one cache tag; prefixes get the same bound. */
  entryLength: 1024,
} as const;

export type EdgePurgeMode = "purge" | "invalidate";

export type EdgePurgeTarget =
  | { readonly tags: readonly string[] }
  | { readonly pathPrefixes: readonly string[] }
  | { readonly purgeEverything: true };
