/**
 * The purge planner: pure, so every rule of how Workers Cache purges are spent is tested
 * without a network or a clock. It turns what many events owe (merged into one
 * `PurgeTargets`) into at most `tokens` calls to the Worker's purge endpoint, so every call
 * has a token of the shared bucket behind it (./token-bucket.ts), and every item is covered:
 *
 * 1. by tag, at most `tagsPerCall` a call (and an operator's prefixes, `prefixesPerCall` a
 *    call), when that fits the tokens;
 * 2. else by the route prefixes the tags map to (core/purge-paths.ts), folded into broader
 *    prefixes until they fit; a tag no route carries can only go by tag;
 * 3. else (or when asked) `purgeEverything`, one call.
 *
 * With no token at all nothing is sent and everything is handed back, never dropped. Each
 * call lists the input items it covers, so when it fails exactly those are owed again.
 */
import type { EdgePurgeTarget } from "../../../core/edge-purge";
import {
  fitPrefixes,
  normalisePurgePrefixes,
  parentPrefix,
  purgePrefixForTag,
} from "../../../core/purge-paths";
import { chunk } from "../purger";
import { WORKERS_CACHE_LIMITS } from "./limits";
import { isEmptyTargets, type PurgeTargets } from "./targets";

export interface PlannerLimits {
  readonly tagsPerCall: number;
  readonly prefixesPerCall: number;
}

/** The JSON body of one call to the Worker's endpoint: exactly one target. */
export type PurgeCallBody = EdgePurgeTarget;

export interface PlannedCall {
  readonly body: PurgeCallBody;
  /** The input items this call takes care of: owed again if it fails. */
  readonly covers: PurgeTargets;
}

/** Which rule the plan fell back to: none (all by tag), route prefixes, or everything. */
export type PlanFallback = "none" | "prefixes" | "everything";

export interface PurgePlan {
  /** Never more than the tokens given. */
  readonly calls: readonly PlannedCall[];
  /** What no call covers (only without tokens): send it later. */
  readonly handedBack: PurgeTargets | undefined;
  readonly fallback: PlanFallback;
}

const DEFAULT_LIMITS: PlannerLimits = WORKERS_CACHE_LIMITS;

/** The calls `targets` take by tag (the precise plan); 0 when they owe nothing. */
export function callsWanted(targets: PurgeTargets, limits: PlannerLimits = DEFAULT_LIMITS): number {
  if (targets.everything) return 1;
  return (
    Math.ceil(targets.tags.length / limits.tagsPerCall) +
    Math.ceil(normalisePurgePrefixes(targets.pathPrefixes).length / limits.prefixesPerCall)
  );
}

export function planPurgeCalls(
  targets: PurgeTargets,
  tokens: number,
  limits: PlannerLimits = DEFAULT_LIMITS,
): PurgePlan {
  for (const [name, value] of Object.entries(limits))
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  const budget = Number.isFinite(tokens) ? Math.max(0, Math.floor(tokens)) : 0;
  if (isEmptyTargets(targets)) return { calls: [], handedBack: undefined, fallback: "none" };
  if (budget === 0) return { calls: [], handedBack: targets, fallback: "none" };
  if (targets.everything) return everythingPlan(targets);
  if (callsWanted(targets, limits) <= budget) {
    const prefixes = normalisePurgePrefixes(targets.pathPrefixes);
    const byPrefix = prefixCalls(prefixes, [], targets.pathPrefixes, limits);
    // (Always defined: the normalised prefixes cover their own inputs.)
    if (byPrefix)
      return {
        calls: [...tagCalls(targets.tags, limits), ...byPrefix],
        handedBack: undefined,
        fallback: "none",
      };
  }
  const fallback = prefixFallback(targets, budget, limits);
  return fallback
    ? { calls: fallback, handedBack: undefined, fallback: "prefixes" }
    : everythingPlan(targets);
}

function everythingPlan(targets: PurgeTargets): PurgePlan {
  return {
    calls: [{ body: { purgeEverything: true }, covers: targets }],
    handedBack: undefined,
    fallback: "everything",
  };
}

function tagCalls(tags: readonly string[], limits: PlannerLimits): PlannedCall[] {
  return chunk(tags, limits.tagsPerCall).map((items) => ({
    body: { tags: items },
    covers: { tags: items, pathPrefixes: [], everything: false },
  }));
}

/**
 * Calls for `prefixes` (already normalised or fitted, so they cover every tag's and every
 * operator prefix), each listing the tags and operator prefixes it covers; undefined if some
 * item is covered by none (never, for prefixes built from these items).
 */
function prefixCalls(
  prefixes: readonly string[],
  tags: ReadonlyArray<readonly [tag: string, prefix: string]>,
  operatorPrefixes: readonly string[],
  limits: PlannerLimits,
): PlannedCall[] | undefined {
  const calls = chunk(prefixes, limits.prefixesPerCall);
  const callOf = new Map<string, number>();
  for (const [index, items] of calls.entries()) for (const prefix of items) callOf.set(prefix, index);
  /** The call whose prefixes cover `prefix` (itself or an ancestor). */
  const coveringCall = (prefix: string): number | undefined => {
    for (let at: string | undefined = prefix; at !== undefined; at = parentPrefix(at)) {
      const index = callOf.get(at);
      if (index !== undefined) return index;
    }
    return undefined;
  };
  const coveredTags = calls.map((): string[] => []);
  const coveredPrefixes = calls.map((): string[] => []);
  for (const [tag, prefix] of tags) {
    const index = coveringCall(prefix);
    if (index === undefined) return undefined;
    coveredTags[index]?.push(tag);
  }
  for (const prefix of new Set(operatorPrefixes)) {
    const index = coveringCall(prefix);
    if (index === undefined) return undefined;
    coveredPrefixes[index]?.push(prefix);
  }
  return calls.map((items, index) => ({
    body: { pathPrefixes: items },
    covers: { tags: coveredTags[index] ?? [], pathPrefixes: coveredPrefixes[index] ?? [], everything: false },
  }));
}

/**
 * Tags no route carries stay tags (they have no prefix); every other tag goes by its route
 * prefix, folded into broader ones only as far as the remaining tokens require. A GPU's or a
 * provider's prefix is its own URL, as narrow as its tag; an aggregate's (a listing, a price
 * list) is its route, which a burst's aggregate tags name almost wholly anyway. Purging a
 * little more of the front tier costs Worker requests; a token costs 12 s.
 */
function prefixFallback(
  targets: PurgeTargets,
  budget: number,
  limits: PlannerLimits,
): PlannedCall[] | undefined {
  const unknown: string[] = [];
  const known: Array<readonly [string, string]> = [];
  for (const tag of targets.tags) {
    const prefix = purgePrefixForTag(tag);
    if (prefix === undefined) unknown.push(tag);
    else known.push([tag, prefix]);
  }
  const byTag = tagCalls(unknown, limits);
  if (byTag.length >= budget) return undefined;
  const room = (budget - byTag.length) * limits.prefixesPerCall;
  const prefixes = fitPrefixes([...known.map(([, prefix]) => prefix), ...targets.pathPrefixes], room);
  const byPrefix = prefixes && prefixCalls(prefixes, known, targets.pathPrefixes, limits);
  return byPrefix && [...byTag, ...byPrefix];
}
