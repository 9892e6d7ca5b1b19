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
 */
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import {
  type Checked,
  ConfigError,
  httpUrl,
  integer,
  mapChecked,
  optional,
  readSettings,
  type SettingSource,
  sourceOf,
  text,
  valueOrThrow,
} from "../../core/config";
import { cloudFrontPathsForTags } from "../../core/purge-paths";
import { CLOUDFLARE_MAX_TAGS_PER_CALL, CloudflarePurger } from "./cloudflare-purger";
import { type CloudFrontBatcherOptions, CloudFrontPurger } from "./cloudfront";
import { createLoggingPurger, type PurgeLogger, type Purger } from "./purger";

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

/** A provider is undefined when its settings are incomplete: it only logs. */
export interface PurgeSettings {
  readonly cloudflare: CloudflareSettings | undefined;
  readonly cloudfront: CloudFrontSettings | undefined;
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
};

export function readPurgeSettings(source: SettingSource): Checked<PurgeSettings> {
  return mapChecked(readSettings(source, SETTINGS), (read) => ({
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
  }));
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
  readonly logger?: PurgeLogger & Pick<Console, "warn">;
  /** Overrides the CloudFront client built from the settings. */
  readonly cloudFrontClient?: CloudFrontClient;
  /** Extra batcher options (clock, timers, sleep, back-off). */
  readonly cloudFront?: Partial<Omit<CloudFrontBatcherOptions, "client" | "distributionId">>;
}

export interface Purgers {
  readonly cloudflare: Purger;
  readonly cloudfront: Purger;
  /** Which providers are real (the others only log). */
  readonly configured: { readonly cloudflare: boolean; readonly cloudfront: boolean };
  /** Set when CloudFront is configured: a purge deferred to the retry queue must name its distribution. */
  readonly cloudfrontDistributionId?: string;
}

const isLocal = (endpoint: string) =>
  /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);

export function createPurgers(settings: PurgeSettings, options: PurgersOptions = {}): Purgers {
  const logger = options.logger ?? console;

  const cloudflareSettings = settings.cloudflare;
  const cloudflare: Purger = cloudflareSettings
    ? new CloudflarePurger({
        zoneId: cloudflareSettings.zoneId,
        apiToken: cloudflareSettings.apiToken,
        ...(cloudflareSettings.baseUrl !== undefined ? { baseURL: cloudflareSettings.baseUrl } : {}),
        ...(cloudflareSettings.chunkSize !== undefined ? { chunkSize: cloudflareSettings.chunkSize } : {}),
        ...(cloudflareSettings.maxRetries !== undefined ? { maxRetries: cloudflareSettings.maxRetries } : {}),
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
        ...(endpoint && isLocal(endpoint)
          ? { credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" } }
          : {}),
      });
    cloudfront = new CloudFrontPurger({
      ...options.cloudFront,
      client,
      distributionId,
      ...(coalesceWindowMs !== undefined ? { windowMs: coalesceWindowMs } : {}),
      logger,
    });
  } else {
    cloudfront = createLoggingPurger("cloudfront", logger, {
      describe: (tags, purgeOptions) => ({
        paths: [...cloudFrontPathsForTags(tags), ...(purgeOptions.paths ?? [])],
      }),
    });
  }

  const distributionId = cloudfrontSettings?.distributionId;
  return {
    cloudflare,
    cloudfront,
    configured: {
      cloudflare: cloudflareSettings !== undefined,
      cloudfront: cloudfrontSettings !== undefined,
    },
    ...(distributionId ? { cloudfrontDistributionId: distributionId } : {}),
  };
}
