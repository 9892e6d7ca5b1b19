/**
 * What the event Lambda (and the purge-retry handler) asks of a CDN: purge these
 * tags. Cloudflare purges the tags themselves; CloudFront invalidates the edge
 * paths the tags map to (core/purge-paths.ts); Workers Cache is asked through the
 * Worker's purge endpoint, by tag or, when the tags would take too many calls, by the
 * path prefixes they map to. A purge never throws and never
 * drops work: a purge that could not be done comes back as a failed outcome with
 * a serialisable `retry` description, which the caller puts on the retry queue
 * and which `Purger.retry` replays later (idempotently on CloudFront, where the
 * same description yields the same CallerReference).
 */
import * as z from "zod";
import type { Logger } from "../shared/logger";
import type { PurgeProviderName } from "../shared/purge-providers";

export { PURGE_PROVIDERS, type PurgeProviderName } from "../shared/purge-providers";

/**
 * One request a purger made to its provider's purge endpoint (an SDK's own retries inside it
 * are the same request), as the audit log and the metrics see it (lambdas/purge/purge-audit.ts).
 */
export interface PurgeCall {
  readonly provider: PurgeProviderName;
  /** The work it is part of: an event id, or a coalesced batch's key. */
  readonly batchKey: string;
  /** Tags (Cloudflare, Workers Cache), paths (CloudFront) or prefixes (Workers Cache) it carried; 0 for everything. */
  readonly targets: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** The provider's id for an accepted purge / invalidation. */
  readonly id?: string;
  readonly error?: string;
}

/** Told of every purge call; must not throw (it is called from inside the purgers). */
export type PurgeCallObserver = (call: PurgeCall) => void;

/** One API call's result: the tags (Cloudflare), paths (CloudFront), or tags or prefixes (Workers Cache) it carried. */
export interface PurgeChunkResult {
  readonly ok: boolean;
  readonly items: readonly string[];
  /** The provider's id for an accepted purge / invalidation. */
  readonly id?: string;
  /** CloudFront only. */
  readonly callerReference?: string;
  /** Requests this purger made for the chunk (the SDKs' own internal retries are not counted). */
  readonly attempts: number;
  readonly error?: string;
}

export const purgeRetrySchema = z.discriminatedUnion("provider", [
  z.strictObject({
    provider: z.literal("cloudflare"),
    zoneId: z.string().min(1),
    tags: z.array(z.string().min(1)).min(1),
    batchKey: z.string(),
  }),
  z.strictObject({
    provider: z.literal("cloudfront"),
    distributionId: z.string().min(1),
    paths: z.array(z.string().startsWith("/")).min(1),
    batchKey: z.string(),
  }),
  // Workers Cache, through the Worker's signed purge endpoint (lambdas/purge/workers-cache/):
  // what is owed, as given (tags, prefixes, everything); the planner decides the calls anew.
  z
    .strictObject({
      provider: z.literal("workers-cache"),
      tags: z.array(z.string().min(1)),
      pathPrefixes: z.array(z.string().startsWith("/")),
      everything: z.boolean(),
      batchKey: z.string(),
    })
    .refine((retry) => retry.everything || retry.tags.length + retry.pathPrefixes.length > 0, {
      message: "owes nothing: name a tag, a prefix or everything",
    }),
]);

/** JSON-serialisable: what is still owed, enough to replay it (e.g. an SQS message body). */
export type PurgeRetry = z.infer<typeof purgeRetrySchema>;

/** Parses a retry description from a queue message; throws a ZodError for anything else. */
export function parsePurgeRetry(value: unknown): PurgeRetry {
  return purgeRetrySchema.parse(value);
}

export type PurgeOutcome =
  | {
      readonly ok: true;
      readonly provider: string;
      /** API calls made (chunks × this purger's own attempts; 0 when there was nothing to do or skipped). */
      readonly calls: number;
      readonly chunks: readonly PurgeChunkResult[];
      /** True for a provider that is not configured (logged only). */
      readonly skipped?: boolean;
    }
  | {
      readonly ok: false;
      readonly provider: string;
      readonly calls: number;
      readonly chunks: readonly PurgeChunkResult[];
      readonly error: string;
      /** Everything that is still owed (only that): enqueue it. */
      readonly retry: PurgeRetry;
    };

export interface PurgeOptions {
  /**
   * Extra CloudFront paths named by an operator (`cache.invalidate`); Workers Cache purges the
   * prefixes they stand for (core/purge-paths.ts), Cloudflare ignores them.
   */
  readonly paths?: readonly string[];
}

export interface Purger {
  /** `cloudflare`, `cloudfront`, `workers-cache`, or the name given to a logging purger. */
  readonly name: string;
  /**
   * Purges what `tags` name. `batchKey` identifies the work (e.g. the event id) and
   * makes a retried purge idempotent where the provider supports it.
   */
  purge(tags: readonly string[], batchKey: string, options?: PurgeOptions): Promise<PurgeOutcome>;
  /** Replays a description from a failed outcome. */
  retry(description: PurgeRetry): Promise<PurgeOutcome>;
  /** Sends anything held back for coalescing now (end of a Lambda invocation); no-op when nothing is held. */
  flush(): Promise<void>;
}

export type PurgeLogger = Pick<Logger, "info">;

export interface LoggingPurgerOptions {
  /** What to log besides the tags, e.g. the CloudFront paths the tags map to. */
  readonly describe?: (tags: readonly string[], options: PurgeOptions) => Record<string, unknown>;
}

/**
 * For a provider that is not configured: logs what it would purge and reports the
 * purge as skipped (ok, no calls), so local runs and partial deployments still work.
 */
export function createLoggingPurger(
  name: string,
  logger: PurgeLogger = console,
  options: LoggingPurgerOptions = {},
): Purger {
  const skipped = (): PurgeOutcome => ({ ok: true, provider: name, calls: 0, chunks: [], skipped: true });
  return {
    name,
    async purge(tags, batchKey, purgeOptions = {}) {
      logger.info("purge skipped: provider not configured", {
        provider: name,
        batchKey,
        tags,
        ...(purgeOptions.paths?.length ? { paths: purgeOptions.paths } : {}),
        ...options.describe?.(tags, purgeOptions),
      });
      return skipped();
    },
    async retry(description) {
      logger.info("purge retry skipped: provider not configured", { ...description, provider: name });
      return skipped();
    },
    async flush() {},
  };
}

/** Splits `items` into consecutive chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
