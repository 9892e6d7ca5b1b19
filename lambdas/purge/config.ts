/**
 * The purgers a deployment (or the local stack) configures: `readPurgeSettings` reads the
 * settings (core/config, every problem collected), `createPurgers` builds from them. A
 * provider without its settings gets a logging purger: it logs what it would purge and is
 * skipped, so a partial setup still runs.
 *
 * | variable                    | meaning                                                           |
 * |-----------------------------|-------------------------------------------------------------------|
 * | CLOUDFLARE_API_TOKEN        | token with Cache Purge permission (a secret)                      |
 * | CLOUDFLARE_ZONE_ID          | the zone the Worker serves                                        |
 * | CLOUDFLARE_BASE_URL         | optional URL; `http://127.0.0.1:PORT/client/v4` for the local fake |
 * | CLOUDFLARE_PURGE_CHUNK_SIZE | optional; tags per call, 1 to 100 (default 100)                   |
 * | CLOUDFLARE_MAX_RETRIES      | optional; SDK retries on 429/5xx, 0 or more (default 3)           |
 * | CLOUDFRONT_DISTRIBUTION_ID  | the distribution in front of the origin                           |
 * | CLOUDFRONT_ENDPOINT         | optional http(s) URL; `http://127.0.0.1:PORT` for the local fake  |
 * | PURGE_COALESCE_WINDOW_MS    | optional; CloudFront coalescing window, 0 or more ms (default 250) |
 * | WORKERS_CACHE_PURGE_URL     | the Worker's purge endpoint, `https://<worker>/_cache/purge`      |
 * | WORKERS_CACHE_PURGE_SECRET  | required with the URL: the Worker's PURGE_WEBHOOK_SECRETS value, `whsec_…` (a secret) |
 * | WORKERS_CACHE_PURGE_MIN_TTL_SECONDS | optional; tags of a class whose front TTL is at most this are not purged (default 5) |
 * | WORKERS_CACHE_BUCKET_CAPACITY | optional; purge calls the shared bucket holds, 1 to 10,000 (default 25) |
 * | WORKERS_CACHE_BUCKET_PER_MINUTE | optional; calls it gains a minute, 1 to 60,000 (default 5)      |
 * | WORKERS_CACHE_PURGE_WINDOW_MS | optional; how long deferred purges gather before they are planned together, 0 to 300,000 ms (default 12,000: one refill) |
 *
 * The zone purge (Cloudflare API) runs only with its token and zone id: nothing of ours lives
 * in the zone cache by default (the Worker's answers are in Workers Cache, its origin fetches
 * go to CloudFront), so the event Lambda purges Workers Cache instead.
 */
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { Redis } from "@upstash/redis";
import {
  type Checked,
  ConfigError,
  combine,
  httpUrl,
  integer,
  invalid,
  isUnset,
  mapChecked,
  matching,
  optional,
  readSettings,
  type SettingSource,
  sourceOf,
  text,
  valid,
  valueOrThrow,
} from "../../core/config";
import { type DataClassPolicies, DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import type { Keyspace } from "../../core/keys";
import { cloudFrontPathsForTags } from "../../core/purge-paths";
import type { Clock } from "../../core/time/clock";
import { WEBHOOK_SECRET_PATTERN } from "../../core/webhook-signature";
import { isLoopbackEndpoint, LOCAL_FAKE_CREDENTIALS } from "../shared/local-endpoint";
import type { Logger } from "../shared/logger";
import { type Metrics, NO_METRICS } from "../shared/metrics";
import { CLOUDFLARE_MAX_TAGS_PER_CALL, CloudflarePurger } from "./cloudflare-purger";
import { type CloudFrontBatcherOptions, CloudFrontPurger } from "./cloudfront";
import { purgeCallAudit } from "./purge-audit";
import { createLoggingPurger, type PurgeProviderName, type Purger } from "./purger";
import {
  createSharedTokenBucket,
  frontTtlFilter,
  MAX_PURGE_WINDOW_MS,
  type PurgeTargets,
  purgeTargetsFor,
  type TagFilter,
  type TokenBucket,
  WORKERS_CACHE_DEFAULTS,
  WorkersCachePurger,
} from "./workers-cache";

export type PurgeEnv = Readonly<Record<string, string | undefined>>;

/** The purge Lambdas' settings are wrong: the CDN settings, the retry queue's, or both. */
export class PurgeConfigError extends ConfigError {
  override readonly name = "PurgeConfigError";
}

/** Unset values take the purger's default. */
export interface CloudflareSettings {
  readonly apiToken: string;
  readonly zoneId: string;
  readonly baseUrl: string | undefined;
  readonly chunkSize: number | undefined;
  readonly maxRetries: number | undefined;
}

export interface CloudFrontSettings {
  readonly distributionId: string;
  readonly endpoint: string | undefined;
  readonly coalesceWindowMs: number | undefined;
}

export interface WorkersCacheSettings {
  readonly url: string;
  readonly secret: string;
  readonly minTtlSeconds: number;
  readonly bucketCapacity: number;
  readonly bucketPerMinute: number;
  readonly windowMs: number;
}

/** A provider is undefined when its settings are incomplete: it only logs. */
export interface PurgeSettings {
  readonly cloudflare: CloudflareSettings | undefined;
  readonly cloudfront: CloudFrontSettings | undefined;
  readonly workersCache: WorkersCacheSettings | undefined;
}

const SETTINGS = {
  cloudflareApiToken: optional("CLOUDFLARE_API_TOKEN", text(), { secret: true }),
  cloudflareZoneId: optional("CLOUDFLARE_ZONE_ID", text()),
  cloudflareBaseUrl: optional("CLOUDFLARE_BASE_URL", httpUrl),
  // Cloudflare takes at most 100 tags a call: a larger chunk would fail every purge.
  cloudflareChunkSize: optional(
    "CLOUDFLARE_PURGE_CHUNK_SIZE",
    integer({ min: 1, max: CLOUDFLARE_MAX_TAGS_PER_CALL }),
  ),
  // 0 is meaningful: no SDK retries, the retry queue takes over at once.
  cloudflareMaxRetries: optional("CLOUDFLARE_MAX_RETRIES", integer({ min: 0 })),
  cloudfrontDistributionId: optional("CLOUDFRONT_DISTRIBUTION_ID", text()),
  cloudfrontEndpoint: optional("CLOUDFRONT_ENDPOINT", httpUrl),
  // 0 is meaningful: send on the next timer tick.
  coalesceWindowMs: optional("PURGE_COALESCE_WINDOW_MS", integer({ min: 0 })),
  workersCacheUrl: optional("WORKERS_CACHE_PURGE_URL", httpUrl),
  workersCacheSecret: optional(
    "WORKERS_CACHE_PURGE_SECRET",
    matching(WEBHOOK_SECRET_PATTERN, "a secret like whsec_<base64>"),
    { secret: true },
  ),
  // 0 is meaningful: purge every class whose copies live at all.
  workersCacheMinTtlSeconds: optional("WORKERS_CACHE_PURGE_MIN_TTL_SECONDS", integer({ min: 0 }), {
    fallback: WORKERS_CACHE_DEFAULTS.minTtlSeconds,
  }),
  workersCacheBucketCapacity: optional("WORKERS_CACHE_BUCKET_CAPACITY", integer({ min: 1, max: 10_000 }), {
    fallback: WORKERS_CACHE_DEFAULTS.bucketCapacity,
  }),
  workersCacheBucketPerMinute: optional("WORKERS_CACHE_BUCKET_PER_MINUTE", integer({ min: 1, max: 60_000 }), {
    fallback: WORKERS_CACHE_DEFAULTS.bucketPerMinute,
  }),
  // At most what an SQS event source can batch for; 0: no gathering.
  workersCacheWindowMs: optional(
    "WORKERS_CACHE_PURGE_WINDOW_MS",
    integer({ min: 0, max: MAX_PURGE_WINDOW_MS }),
    {
      fallback: WORKERS_CACHE_DEFAULTS.windowMs,
    },
  ),
};

/** The Worker's endpoint without its secret would send calls it refuses: say so at cold start. */
function workersCachePairing(source: SettingSource): Checked<undefined> {
  return !isUnset(source("WORKERS_CACHE_PURGE_URL")) && isUnset(source("WORKERS_CACHE_PURGE_SECRET"))
    ? invalid(["WORKERS_CACHE_PURGE_SECRET: missing (required with WORKERS_CACHE_PURGE_URL)"])
    : valid(undefined);
}

export function readPurgeSettings(source: SettingSource): Checked<PurgeSettings> {
  const checked = combine({ read: readSettings(source, SETTINGS), pairing: workersCachePairing(source) });
  return mapChecked(checked, ({ read }) => ({
    cloudflare:
      read.cloudflareApiToken !== undefined && read.cloudflareZoneId !== undefined
        ? {
            apiToken: read.cloudflareApiToken,
            zoneId: read.cloudflareZoneId,
            baseUrl: read.cloudflareBaseUrl,
            chunkSize: read.cloudflareChunkSize,
            maxRetries: read.cloudflareMaxRetries,
          }
        : undefined,
    cloudfront:
      read.cloudfrontDistributionId !== undefined
        ? {
            distributionId: read.cloudfrontDistributionId,
            endpoint: read.cloudfrontEndpoint,
            coalesceWindowMs: read.coalesceWindowMs,
          }
        : undefined,
    workersCache:
      read.workersCacheUrl !== undefined && read.workersCacheSecret !== undefined
        ? {
            url: read.workersCacheUrl,
            secret: read.workersCacheSecret,
            minTtlSeconds: read.workersCacheMinTtlSeconds,
            bucketCapacity: read.workersCacheBucketCapacity,
            bucketPerMinute: read.workersCacheBucketPerMinute,
            windowMs: read.workersCacheWindowMs,
          }
        : undefined,
  }));
}

/** The retry Lambda needs Redis (the shared bucket) only when Workers Cache is purged. */
export function workersCacheConfigured(source: SettingSource): boolean {
  return !isUnset(source("WORKERS_CACHE_PURGE_URL"));
}

/**
 * The CDN settings alone. A Lambda reads them with its other settings instead
 * (lambdas/events/config.ts, lambdas/retry/config.ts), so all problems come in one error.
 */
export function parsePurgeSettings(env: PurgeEnv): PurgeSettings {
  return valueOrThrow(
    readPurgeSettings(sourceOf(env)),
    (problems) => new PurgeConfigError("purge configuration", problems),
  );
}

export interface PurgersOptions {
  /** Each purge call is a line here (lambdas/purge/purge-audit.ts), besides the purgers' own. */
  readonly logger?: Pick<Logger, "info" | "warn">;
  /** Each purge call's metrics (PurgeCalls, PurgeCallsFailed, PurgeTargets per provider). */
  readonly metrics?: Metrics;
  /** Overrides the CloudFront client built from the settings. */
  readonly cloudFrontClient?: CloudFrontClient;
  /** Extra batcher options (clock, timers, sleep, back-off). */
  readonly cloudFront?: Partial<Omit<CloudFrontBatcherOptions, "client" | "distributionId">>;
  /**
   * Redis for the shared Workers Cache bucket (required when Workers Cache is configured,
   * unless `bucket` is given): the Lambda's own client and keyspace.
   */
  readonly redis?: { readonly client: Redis; readonly keys: Keyspace };
  /** Workers Cache: the policies whose front TTLs decide which tags are purged (default the defaults). */
  readonly policies?: DataClassPolicies;
  readonly workersCache?: {
    /** Replaces the Redis bucket (tests). */
    readonly bucket?: TokenBucket;
    /** Wall-clock time, for the bucket and the signature (default the system clock). */
    readonly clock?: Clock;
    readonly fetch?: typeof fetch;
  };
}

export interface Purgers {
  /** The zone purge (Cloudflare API by tag): real only with CLOUDFLARE_API_TOKEN and CLOUDFLARE_ZONE_ID. */
  readonly cloudflare: Purger;
  readonly cloudfront: Purger;
  readonly workersCache: Purger;
  /** Which providers are real (the others only log). */
  readonly configured: {
    readonly cloudflare: boolean;
    readonly cloudfront: boolean;
    readonly workersCache: boolean;
  };
  /** Set when CloudFront is configured: a purge deferred to the retry queue must name its distribution. */
  readonly cloudfrontDistributionId?: string;
  /**
   * What a Workers Cache purge of `tags` (and operator `paths`) owes: the tags whose class's
   * front TTL outlives WORKERS_CACHE_PURGE_MIN_TTL_SECONDS, the prefixes the paths stand for.
   */
  workersCacheTargets(tags: readonly string[], paths?: readonly string[]): PurgeTargets;
}

/** The purger for a retry description's provider. */
export function purgerFor(purgers: Purgers, provider: PurgeProviderName): Purger {
  return provider === "workers-cache" ? purgers.workersCache : purgers[provider];
}

export function isConfigured(purgers: Purgers, provider: PurgeProviderName): boolean {
  return provider === "workers-cache" ? purgers.configured.workersCache : purgers.configured[provider];
}

export function createPurgers(settings: PurgeSettings, options: PurgersOptions = {}): Purgers {
  const logger = options.logger ?? console;
  const onCall = purgeCallAudit(logger, options.metrics ?? NO_METRICS);

  const cloudflareSettings = settings.cloudflare;
  const cloudflare: Purger = cloudflareSettings
    ? new CloudflarePurger({
        zoneId: cloudflareSettings.zoneId,
        apiToken: cloudflareSettings.apiToken,
        ...(cloudflareSettings.baseUrl !== undefined ? { baseURL: cloudflareSettings.baseUrl } : {}),
        ...(cloudflareSettings.chunkSize !== undefined ? { chunkSize: cloudflareSettings.chunkSize } : {}),
        ...(cloudflareSettings.maxRetries !== undefined ? { maxRetries: cloudflareSettings.maxRetries } : {}),
        onCall,
      })
    : createLoggingPurger("cloudflare", logger);

  const cloudfrontSettings = settings.cloudfront;
  let cloudfront: Purger;
  if (cloudfrontSettings) {
    const { distributionId, endpoint, coalesceWindowMs } = cloudfrontSettings;
    const client =
      options.cloudFrontClient ??
      new CloudFrontClient({
        // CloudFront is a global service signed in us-east-1.
        region: "us-east-1",
        ...(endpoint ? { endpoint } : {}),
        // The local fake checks only that requests are signed; never send real credentials to it.
        ...(endpoint && isLoopbackEndpoint(endpoint) ? { credentials: LOCAL_FAKE_CREDENTIALS } : {}),
      });
    cloudfront = new CloudFrontPurger({
      ...options.cloudFront,
      client,
      distributionId,
      ...(coalesceWindowMs !== undefined ? { windowMs: coalesceWindowMs } : {}),
      logger,
      onCall,
    });
  } else {
    cloudfront = createLoggingPurger("cloudfront", logger, {
      describe: (tags, purgeOptions) => ({
        paths: [...cloudFrontPathsForTags(tags), ...(purgeOptions.paths ?? [])],
      }),
    });
  }

  const workersCacheSettings = settings.workersCache;
  const filter: TagFilter = frontTtlFilter(
    options.policies ?? DEFAULT_DATA_CLASS_POLICIES,
    workersCacheSettings?.minTtlSeconds ?? WORKERS_CACHE_DEFAULTS.minTtlSeconds,
  );
  let workersCache: Purger;
  if (workersCacheSettings) {
    const clock = options.workersCache?.clock;
    let bucket = options.workersCache?.bucket;
    if (!bucket) {
      if (!options.redis)
        throw new TypeError("a Workers Cache purger needs Redis for its shared token bucket (options.redis)");
      bucket = createSharedTokenBucket({
        redis: options.redis.client,
        key: options.redis.keys.workersCachePurgeBucket,
        capacity: workersCacheSettings.bucketCapacity,
        perMinute: workersCacheSettings.bucketPerMinute,
        ...(clock ? { clock } : {}),
      });
    }
    workersCache = new WorkersCachePurger({
      url: workersCacheSettings.url,
      secret: workersCacheSettings.secret,
      bucket,
      filter,
      logger,
      onCall,
      ...(clock ? { clock } : {}),
      ...(options.workersCache?.fetch ? { fetch: options.workersCache.fetch } : {}),
    });
  } else {
    workersCache = createLoggingPurger("workers-cache", logger, {
      describe: (tags, purgeOptions) => {
        const { tags: purged, pathPrefixes } = purgeTargetsFor(tags, purgeOptions.paths, filter);
        return { purged, pathPrefixes };
      },
    });
  }

  const distributionId = cloudfrontSettings?.distributionId;
  return {
    cloudflare,
    cloudfront,
    workersCache,
    configured: {
      cloudflare: cloudflareSettings !== undefined,
      cloudfront: cloudfrontSettings !== undefined,
      workersCache: workersCacheSettings !== undefined,
    },
    ...(distributionId ? { cloudfrontDistributionId: distributionId } : {}),
    workersCacheTargets: (tags, paths) => purgeTargetsFor(tags, paths, filter),
  };
}
