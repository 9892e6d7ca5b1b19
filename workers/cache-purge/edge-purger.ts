/**
 * What the purge endpoint purges through: Workers Cache's `ctx.cache` in production, a
 * front cache speaking the HTTP purge protocol locally (workers/cache-purge/http-front-purger.ts).
 * Both answer the same way, so the route does not care which one it has.
 */
import type { PurgeRequest } from "./purge-request";

export type PurgeOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly errors: readonly string[];
      /** When a retry may succeed (a rate limit's refill, the front's own Retry-After). */
      readonly retryAfterSeconds: number;
    };

export interface EdgeCachePurger {
  /** For the audit line: which kind of cache was asked (never its URL, which may hold credentials). */
  readonly kind: "workers-cache" | "http-front";
  /** Never rejects: a failure is an outcome, so every answer stays the endpoint's own. */
  purge(request: PurgeRequest): Promise<PurgeOutcome>;
}

/**
 * Workers Cache refills one purge call every 12 s (5 a minute, whatever the plan): a refused
 * call may succeed that much later.
 */
export const PURGE_RETRY_AFTER_SECONDS = 12;

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
