/**
 * Workers Cache work that goes through the retry queue (lambdas/retry/) as `PurgeRetry`
 * descriptions: the event Lambda defers a whole delivery's targets as one description,
 * the retry handler merges all of a batch's descriptions into one and plans them together,
 * and afterwards tells each message whether anything it carried is still owed.
 */
import { combinedBatchKey } from "../cloudfront/caller-reference";
import type { PurgeOptions, PurgeRetry } from "../purger";
import { isEmptyTargets, mergeTargets, owesAnyOf, type PurgeTargets } from "./targets";

export type WorkersCacheRetry = Extract<PurgeRetry, { provider: "workers-cache" }>;

export function workersCacheRetry(targets: PurgeTargets, batchKey: string): WorkersCacheRetry {
  return {
    provider: "workers-cache",
    tags: [...targets.tags],
    pathPrefixes: [...targets.pathPrefixes],
    everything: targets.everything,
    batchKey,
  };
}

export function targetsOf(retry: WorkersCacheRetry): PurgeTargets {
  return { tags: retry.tags, pathPrefixes: retry.pathPrefixes, everything: retry.everything };
}

/** One retry for the union of `retries`; the batch key is derived from theirs. */
export function mergeWorkersCacheRetries(retries: readonly WorkersCacheRetry[]): WorkersCacheRetry {
  if (retries.length === 0) throw new RangeError("mergeWorkersCacheRetries needs at least one retry");
  return workersCacheRetry(
    mergeTargets(retries.map(targetsOf)),
    combinedBatchKey(retries.map((retry) => retry.batchKey)),
  );
}

/**
 * Whether `message` is still owed after a merged replay: `owed` is what the replay's
 * failed outcome says is still owed (undefined: it did not say, so everything is).
 */
export function stillOwes(owed: WorkersCacheRetry | undefined, message: WorkersCacheRetry): boolean {
  return owed === undefined || owesAnyOf(targetsOf(owed), targetsOf(message));
}

/** One purge a delivery owes, as the event Lambda would hand it to `Purger.purge`. */
export interface WorkersCachePurgeRequest {
  readonly batchKey: string;
  readonly tags: readonly string[];
  readonly paths?: PurgeOptions["paths"];
}

export interface DeferredWorkersCacheRetry {
  readonly retry: WorkersCacheRetry;
  /** The requests' batch keys that owe anything (the others' tags were all filtered out). */
  readonly batchKeys: string[];
}

/**
 * All `requests` as one retry to queue instead of purging now; undefined when none owes
 * anything. `targetsFor` says what a request owes (lambdas/purge/config.ts
 * `Purgers.workersCacheTargets`: the front-TTL filter applied).
 */
export function deferredWorkersCacheRetry(
  requests: readonly WorkersCachePurgeRequest[],
  targetsFor: (tags: readonly string[], paths?: readonly string[]) => PurgeTargets,
): DeferredWorkersCacheRetry | undefined {
  const owing = requests
    .map((request) => ({ request, targets: targetsFor(request.tags, request.paths) }))
    .filter(({ targets }) => !isEmptyTargets(targets));
  if (owing.length === 0) return undefined;
  const batchKeys = owing.map(({ request }) => request.batchKey);
  return {
    retry: workersCacheRetry(mergeTargets(owing.map(({ targets }) => targets)), combinedBatchKey(batchKeys)),
    batchKeys,
  };
}
