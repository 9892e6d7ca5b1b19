/**
 * What a Workers Cache purge owes, before it is planned into calls: tags, path prefixes
 * and "everything", each kept as given so that what a failed call still owes can be told
 * apart item by item (lambdas/purge/workers-cache/planner.ts says which call covers what).
 */
import type { DataClassPolicies } from "../../../core/data-classes";
import { purgePrefixOfPath } from "../../../core/purge-paths";
import { tagDataClass } from "../../../core/tags";

export interface PurgeTargets {
  readonly tags: readonly string[];
  readonly pathPrefixes: readonly string[];
  readonly everything: boolean;
}

export const NO_TARGETS: PurgeTargets = { tags: [], pathPrefixes: [], everything: false };

export function isEmptyTargets(targets: PurgeTargets): boolean {
  return !targets.everything && targets.tags.length === 0 && targets.pathPrefixes.length === 0;
}

/** The union of `parts`: each tag and prefix once, sorted. */
export function mergeTargets(parts: Iterable<PurgeTargets | undefined>): PurgeTargets {
  const tags = new Set<string>();
  const pathPrefixes = new Set<string>();
  let everything = false;
  for (const part of parts) {
    if (!part) continue;
    for (const tag of part.tags) tags.add(tag);
    for (const prefix of part.pathPrefixes) pathPrefixes.add(prefix);
    everything ||= part.everything;
  }
  return { tags: [...tags].sort(), pathPrefixes: [...pathPrefixes].sort(), everything };
}

/** True when `owed` still holds any item of `part` (both as given, so membership is exact). */
export function owesAnyOf(owed: PurgeTargets, part: PurgeTargets): boolean {
  if (part.everything && owed.everything) return true;
  const tags = new Set(owed.tags);
  const prefixes = new Set(owed.pathPrefixes);
  return part.tags.some((tag) => tags.has(tag)) || part.pathPrefixes.some((prefix) => prefixes.has(prefix));
}

/** Which tags are worth a Workers Cache purge. */
export type TagFilter = (tags: readonly string[]) => string[];

/**
 * A tag is purged only when its copies can outlive the purge: a class whose front TTL
 * (`cdnMaxAgeSeconds`) is at most `minTtlSeconds` expires before a purge that waits for its
 * window would arrive, so purging it spends a call for nothing. A tag of no known class is
 * always purged (nothing says how long its copies live).
 */
export function frontTtlFilter(policies: DataClassPolicies, minTtlSeconds: number): TagFilter {
  return (tags) =>
    tags.filter((tag) => {
      const dataClass = tagDataClass(tag);
      return dataClass === undefined || policies[dataClass].cdnMaxAgeSeconds > minTtlSeconds;
    });
}

/**
 * What a purge of `tags` (plus an operator's CloudFront `paths`) owes Workers Cache: the tags
 * `filter` keeps, and the prefix each path stands for (core/purge-paths.ts; a path that stands
 * for the whole host, `/*`, owes everything).
 */
export function purgeTargetsFor(
  tags: readonly string[],
  paths: readonly string[] = [],
  filter: TagFilter = (all) => [...all],
): PurgeTargets {
  const prefixes: string[] = [];
  let everything = false;
  for (const path of paths) {
    const prefix = purgePrefixOfPath(path);
    if (prefix === undefined) everything ||= path.startsWith("/");
    else prefixes.push(prefix);
  }
  return mergeTargets([{ tags: filter([...new Set(tags)]), pathPrefixes: prefixes, everything }]);
}
