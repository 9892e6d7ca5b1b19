/**
 * Purges Workers Cache through the execution context's `cache` (workers-types: `cache?:
 * CacheContext` on ExecutionContext). Typed here structurally, so this file also compiles
 * where workers-types is not loaded (the Node tools that import the Worker's modules);
 * test/workers/cache-purge.test.ts checks that workers-types' CacheContext fits it.
 */
import { describeError, type EdgeCachePurger, PURGE_RETRY_AFTER_SECONDS } from "./edge-purger";
import type { PurgeRequest } from "./purge-request";

export interface WorkersCachePurgeOptions {
  tags?: string[];
  pathPrefixes?: string[];
  purgeEverything?: boolean;
}

export interface WorkersCachePurgeResult {
  readonly success: boolean;
  readonly errors: ReadonlyArray<{ readonly code: number; readonly message: string }>;
}

export interface WorkersCacheContext {
  purge(options: WorkersCachePurgeOptions): Promise<WorkersCachePurgeResult>;
  invalidate(options: WorkersCachePurgeOptions): Promise<WorkersCachePurgeResult>;
}

/** The options exactly as the request named them: one target, fresh arrays. */
export function workersCacheOptions(request: PurgeRequest): WorkersCachePurgeOptions {
  const { target } = request;
  if ("tags" in target) return { tags: [...target.tags] };
  if ("pathPrefixes" in target) return { pathPrefixes: [...target.pathPrefixes] };
  return { purgeEverything: true };
}

export function workersCachePurger(cache: WorkersCacheContext): EdgeCachePurger {
  return {
    kind: "workers-cache",
    async purge(request) {
      const options = workersCacheOptions(request);
      let result: WorkersCachePurgeResult;
      try {
        result = request.mode === "invalidate" ? await cache.invalidate(options) : await cache.purge(options);
      } catch (error) {
        return { ok: false, errors: [describeError(error)], retryAfterSeconds: PURGE_RETRY_AFTER_SECONDS };
      }
      if (result.success) return { ok: true };
      // success: false is how Workers Cache says no, a rate limit among others.
      const errors = result.errors.map((error) => `${error.message} (code ${error.code})`);
      return {
        ok: false,
        errors: errors.length > 0 ? errors : ["Workers Cache refused the purge"],
        retryAfterSeconds: PURGE_RETRY_AFTER_SECONDS,
      };
    },
  };
}
