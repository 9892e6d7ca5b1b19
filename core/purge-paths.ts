/**
 * CloudFront invalidation paths for cache tags: the ONE place that maps the tags
 * of core/tags.ts to the edge URL paths of workers/routes.ts, plus the path
 * algebra the purgers use to stay within CloudFront's limits (dedupe, "a wildcard
 * covers what it matches", collapsing to broader wildcards).
 *
 * Runtime-neutral: plain string work, no Node APIs.
 *
 * Mapping (routes → tags they carry → paths that invalidate them):
 * | tag                              | path                      | why                                        |
 * |----------------------------------|---------------------------|--------------------------------------------|
 * | `gpu:<id>`                       | `/v1/gpus/<id>`           | the record's own URL, no query             |
 * | `gpus:<region|*>:<type|*>`       | `/v1/gpus*`               | listings vary by query string              |
 * | `price:<type>:<region>`          | `/v1/pricing*`            | `/v1/pricing?type=&region=`                |
 * | `prices:<type|*>:<region|*>`     | `/v1/pricing*`            | price lists, query varies                  |
 * | `provider:<id>`                  | `/v1/providers/<id>`      | no query                                   |
 * | `stats:<region>:<type>`          | `/v1/market/stats*`       | query varies                               |
 * | `stats-list:<region|*>:<type|*>` | `/v1/market/stats*`       | query varies                               |
 * | `orderbook:<type>:<region>`      | `/v1/orderbook/<type>*`   | `?region=` varies                          |
 * | `orderbooks:<type>`              | `/v1/orderbook/<type>*`   | all regions of the type                    |
 * | `ref:regions` / `ref:gpu-types`  | `/v1/regions` / `/v1/gpu-types` | no query                             |
 *
 * Unknown tags (those core/tags.ts `parseTag` refuses: another prefix, a malformed
 * shape, an identifier outside the identifier alphabet, e.g. one holding `*` or `/`)
 * map to no path and are ignored: no edge response carries them, so CloudFront holds
 * nothing to invalidate for them (Cloudflare still purges every tag as given). An
 * identifier is never allowed to smuggle a wildcard or another path segment into an
 * invalidation.
 *
 * CloudFront matches a path ending in `*` as a prefix; a path is "covered" when a
 * wildcard in the same set matches it, and covered paths are dropped.
 *
 * Workers Cache is purged by path prefix where tags cost too many calls
 * (lambdas/purge/workers-cache/planner.ts): a tag's prefix is its CloudFront path without the
 * `*` (the same routes, so one mapping), and a prefix matches by whole path segments, as
 * Cloudflare's purge by prefix does: `/v1/gpus` matches `/v1/gpus`, `/v1/gpus?region=…` and
 * `/v1/gpus/gpu-1`, never `/v1/gpusx`.
 */
import { parseTag } from "./tags";

export const EDGE_PATHS = {
  gpuListing: "/v1/gpus*",
  gpu: (gpuId: string) => `/v1/gpus/${gpuId}`,
  pricing: "/v1/pricing*",
  provider: (providerId: string) => `/v1/providers/${providerId}`,
  marketStats: "/v1/market/stats*",
  orderBook: (gpuType: string) => `/v1/orderbook/${gpuType}*`,
  regions: "/v1/regions",
  gpuTypes: "/v1/gpu-types",
} as const;

/** The path one tag invalidates, or undefined for a tag no edge route carries. */
export function cloudFrontPathForTag(tag: string): string | undefined {
  const parsed = parseTag(tag);
  if (parsed === undefined) return undefined;
  switch (parsed.kind) {
    case "gpu":
      return EDGE_PATHS.gpu(parsed.gpuId);
    case "listing":
      return EDGE_PATHS.gpuListing;
    case "price":
    case "priceList":
      return EDGE_PATHS.pricing;
    case "provider":
      return EDGE_PATHS.provider(parsed.providerId);
    case "marketStats":
    case "statsList":
      return EDGE_PATHS.marketStats;
    case "orderBook":
    case "orderBookList":
      return EDGE_PATHS.orderBook(parsed.gpuType);
    case "reference":
      return parsed.name === "regions" ? EDGE_PATHS.regions : EDGE_PATHS.gpuTypes;
  }
}

/** Deduplicated, sorted CloudFront paths for `tags`; unknown tags are ignored; covered paths dropped. */
export function cloudFrontPathsForTags(tags: readonly string[]): string[] {
  const paths: string[] = [];
  for (const tag of tags) {
    const path = cloudFrontPathForTag(tag);
    if (path !== undefined) paths.push(path);
  }
  return normaliseInvalidationPaths(paths);
}

/** CloudFront counts any path holding `*` against the wildcard limit. */
export function isWildcardPath(path: string): boolean {
  return path.includes("*");
}

/** True when the wildcard `wildcard` (ending in `*`) matches every URL `path` matches, and they differ. */
export function coversPath(wildcard: string, path: string): boolean {
  if (!wildcard.endsWith("*") || wildcard === path) return false;
  const prefix = wildcard.slice(0, -1);
  // `prefix` holds no `*` (only a trailing one counts as a prefix match); if `path` starts with it,
  // every URL `path` matches starts with it too.
  return !prefix.includes("*") && path.startsWith(prefix);
}

/** Deduplicates, drops paths a wildcard in the set covers, and sorts (code-unit order). */
export function normaliseInvalidationPaths(paths: Iterable<string>): string[] {
  const unique = [...new Set(paths)].sort();
  const prefixes = unique.filter((path) => path.endsWith("*") && !path.slice(0, -1).includes("*"));
  if (prefixes.length === 0) return unique;
  return unique.filter((path) => !prefixes.some((wildcard) => coversPath(wildcard, path)));
}

/**
 * The next broader wildcard: `/v1/gpus/abc` → `/v1/gpus/*`, `/v1/orderbook/A100*` →
 * `/v1/orderbook/*`, `/v1/gpus*` → `/v1/*`, `/v1/*` → `/*`; undefined for `/*`.
 */
export function broaderWildcard(path: string): string | undefined {
  if (path === "/*") return undefined;
  let stem = path.endsWith("*") ? path.slice(0, -1) : path;
  if (stem.endsWith("/")) stem = stem.slice(0, -1);
  const cut = stem.lastIndexOf("/");
  if (cut < 0) return "/*";
  return `${stem.slice(0, cut + 1)}*`;
}

export interface PathBudget {
  /** Wildcard paths that may still be put in progress. */
  readonly wildcards: number;
  /** Individual (non-wildcard) paths that may still be put in progress. */
  readonly exact: number;
}

/** Replaces `members` by `wildcard` and normalises. */
function replaceWith(paths: readonly string[], members: ReadonlySet<string>, wildcard: string): string[] {
  return normaliseInvalidationPaths([...paths.filter((path) => !members.has(path)), wildcard]);
}

function groupByBroader(paths: readonly string[]): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>();
  for (const path of paths) {
    const parent = broaderWildcard(path);
    if (parent === undefined) continue;
    const group = groups.get(parent);
    if (group) group.add(path);
    else groups.set(parent, new Set([path]));
  }
  return groups;
}

/** The group with the most members; ties go to the longest (narrowest) wildcard, then code-unit order. */
function largestGroup(groups: Map<string, Set<string>>): [string, Set<string>] | undefined {
  let best: [string, Set<string>] | undefined;
  for (const entry of groups) {
    if (
      !best ||
      entry[1].size > best[1].size ||
      (entry[1].size === best[1].size &&
        (entry[0].length > best[0].length || (entry[0].length === best[0].length && entry[0] < best[0])))
    )
      best = entry;
  }
  return best;
}

/**
 * The narrowest set this greedy ladder finds that covers every path in `paths`
 * within `budget`: too many individual paths are folded into their parent
 * wildcards (largest group first); then too many wildcards are merged under a
 * shared broader wildcard (largest group first, else the deepest one is raised a
 * level), up to `/*`. Undefined when no set fits (a budget below one of a needed kind):
 * the caller waits for in-progress invalidations to finish.
 */
export function fitPathsToBudget(paths: Iterable<string>, budget: PathBudget): string[] | undefined {
  let current = normaliseInvalidationPaths(paths);
  const exactBudget = Math.max(0, Math.floor(budget.exact));
  const wildcardBudget = Math.floor(budget.wildcards);

  for (;;) {
    const exact = current.filter((path) => !isWildcardPath(path));
    if (exact.length <= exactBudget) break;
    const group = largestGroup(groupByBroader(exact));
    if (!group) return undefined;
    current = replaceWith(current, group[1], group[0]);
  }

  for (;;) {
    const wildcards = current.filter(isWildcardPath);
    if (wildcards.length <= wildcardBudget) return current;
    if (wildcardBudget < 1) return undefined;
    const group = largestGroup(groupByBroader(wildcards));
    if (!group) return undefined;
    if (group[1].size >= 2) {
      current = replaceWith(current, group[1], group[0]);
      continue;
    }
    // No two wildcards share a parent: raise the deepest one a level so they can meet higher up.
    const deepest = [...wildcards].sort((x, y) => y.length - x.length || (x < y ? -1 : 1))[0];
    const parent = deepest === undefined ? undefined : broaderWildcard(deepest);
    if (deepest === undefined || parent === undefined) return undefined;
    current = replaceWith(current, new Set([deepest]), parent);
  }
}

/**
 * The Workers Cache path prefix that purges at least what an operator's CloudFront path
 * invalidates: the path itself when it has no wildcard or query, else the whole segments
 * before the first `*` or `?` (`/v1/gpus/*` → `/v1/gpus`, `/v1/orderbook/A1*` →
 * `/v1/orderbook`, since `A1*` also matches `A100`). Undefined when only the whole host
 * would do (`/*`): the caller purges everything.
 */
export function purgePrefixOfPath(path: string): string | undefined {
  if (!path.startsWith("/")) return undefined;
  const cut = path.search(/[*?]/);
  let prefix = cut < 0 ? path : path.slice(0, path.lastIndexOf("/", cut));
  while (prefix.endsWith("/")) prefix = prefix.slice(0, -1);
  return prefix === "" ? undefined : prefix;
}

/**
 * The prefix that purges what one tag labels, or undefined for a tag no edge route carries:
 * its CloudFront path without the trailing `*`, which is exact here because the tag names
 * the route (`orderbooks:A100` labels `/v1/orderbook/A100?…`, never `A100-80GB`).
 */
export function purgePrefixForTag(tag: string): string | undefined {
  const path = cloudFrontPathForTag(tag);
  if (path === undefined) return undefined;
  return path.endsWith("*") ? path.slice(0, -1) : path;
}

/** True when `prefix` matches every URL `other` matches (whole segments), and they differ. */
export function prefixCovers(prefix: string, other: string): boolean {
  return other !== prefix && other.startsWith(`${prefix}/`);
}

/** Deduplicates, drops prefixes another in the set covers, and sorts (code-unit order). */
export function normalisePurgePrefixes(prefixes: Iterable<string>): string[] {
  const unique = new Set(prefixes);
  const covered = (prefix: string) => {
    for (let parent = parentPrefix(prefix); parent !== undefined; parent = parentPrefix(parent))
      if (unique.has(parent)) return true;
    return false;
  };
  return [...unique].filter((prefix) => !covered(prefix)).sort();
}

/** One segment up: `/v1/gpus/gpu-1` → `/v1/gpus`; undefined for a single segment (`/v1`). */
export function parentPrefix(prefix: string): string | undefined {
  const cut = prefix.lastIndexOf("/");
  return cut > 0 ? prefix.slice(0, cut) : undefined;
}

/**
 * The narrowest set this greedy ladder finds of at most `max` prefixes that covers every
 * one of `prefixes`: the largest group of siblings is folded into its parent first, else the
 * deepest prefix is raised a level. Undefined when only the whole host would do (the caller
 * purges everything instead).
 */
export function fitPrefixes(prefixes: Iterable<string>, max: number): string[] | undefined {
  let current = normalisePurgePrefixes(prefixes);
  while (current.length > Math.max(0, Math.floor(max))) {
    const groups = new Map<string, string[]>();
    for (const prefix of current) {
      const parent = parentPrefix(prefix);
      if (parent !== undefined) groups.set(parent, [...(groups.get(parent) ?? []), prefix]);
    }
    let best: [string, string[]] | undefined;
    for (const entry of groups)
      if (
        !best ||
        entry[1].length > best[1].length ||
        (entry[1].length === best[1].length && entry[0].length > best[0].length)
      )
        best = entry;
    if (!best) return undefined;
    const [parent, members] = best;
    if (members.length < 2) {
      // No two share a parent: raise the deepest so they can meet higher up.
      const deepest = [...current].sort(
        (a, b) => b.split("/").length - a.split("/").length || (a < b ? -1 : 1),
      )[0];
      const raised = deepest === undefined ? undefined : parentPrefix(deepest);
      if (deepest === undefined || raised === undefined) return undefined;
      current = normalisePurgePrefixes([...current.filter((prefix) => prefix !== deepest), raised]);
      continue;
    }
    const folded = new Set(members);
    current = normalisePurgePrefixes([...current.filter((prefix) => !folded.has(prefix)), parent]);
  }
  return current;
}
