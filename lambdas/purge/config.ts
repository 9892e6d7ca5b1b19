/**
 * The purgers a deployment (or the local stack) configures from its environment.
 * A provider without its settings gets a logging purger: it logs what it would
 * purge and is skipped, so a partial setup still runs.
 *
 * | variable                    | meaning                                                        |
 * |-----------------------------|----------------------------------------------------------------|
 * | CLOUDFLARE_API_TOKEN        | token with Cache Purge permission (a secret)                   |
 * | CLOUDFLARE_ZONE_ID          | the zone the Worker serves                                     |
 * | CLOUDFLARE_BASE_URL         | optional; `http://127.0.0.1:PORT/client/v4` for the local fake  |
 * | CLOUDFLARE_PURGE_CHUNK_SIZE | optional; tags per call, ≤ 100 (default 100)                   |
 * | CLOUDFLARE_MAX_RETRIES      | optional; SDK retries on 429/5xx (default 3)                   |
 * | CLOUDFRONT_DISTRIBUTION_ID  | the distribution in front of the origin                        |
 * | CLOUDFRONT_ENDPOINT         | optional; `http://127.0.0.1:PORT` for the local fake            |
 * | PURGE_COALESCE_WINDOW_MS    | optional; CloudFront coalescing window (default 250)           |
 */
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { cloudFrontPathsForTags } from "../../core/purge-paths";
import { CloudflarePurger } from "./cloudflare-purger";
import { type CloudFrontBatcherOptions, CloudFrontPurger } from "./cloudfront-purger";
import { createLoggingPurger, type PurgeLogger, type Purger } from "./purger";

export type PurgeEnv = Readonly<Record<string, string | undefined>>;

export interface PurgersOptions {
  readonly logger?: PurgeLogger & Pick<Console, "warn">;
  /** Overrides the CloudFront client built from the environment. */
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

function positiveInt(env: PurgeEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

const isLocal = (endpoint: string) =>
  /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);

export function createPurgers(env: PurgeEnv, options: PurgersOptions = {}): Purgers {
  const logger = options.logger ?? console;

  const cloudflareReady = Boolean(env.CLOUDFLARE_API_TOKEN && env.CLOUDFLARE_ZONE_ID);
  const chunkSize = positiveInt(env, "CLOUDFLARE_PURGE_CHUNK_SIZE");
  const maxRetries = positiveInt(env, "CLOUDFLARE_MAX_RETRIES");
  const cloudflare: Purger = cloudflareReady
    ? new CloudflarePurger({
        zoneId: env.CLOUDFLARE_ZONE_ID ?? "",
        apiToken: env.CLOUDFLARE_API_TOKEN ?? "",
        ...(env.CLOUDFLARE_BASE_URL ? { baseURL: env.CLOUDFLARE_BASE_URL } : {}),
        ...(chunkSize !== undefined ? { chunkSize } : {}),
        ...(maxRetries !== undefined ? { maxRetries } : {}),
      })
    : createLoggingPurger("cloudflare", logger);

  const distributionId = env.CLOUDFRONT_DISTRIBUTION_ID;
  const endpoint = env.CLOUDFRONT_ENDPOINT;
  const windowMs = positiveInt(env, "PURGE_COALESCE_WINDOW_MS");
  let cloudfront: Purger;
  if (distributionId) {
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
      ...(windowMs !== undefined ? { windowMs } : {}),
      logger,
    });
  } else {
    cloudfront = createLoggingPurger("cloudfront", logger, {
      describe: (tags, purgeOptions) => ({
        paths: [...cloudFrontPathsForTags(tags), ...(purgeOptions.paths ?? [])],
      }),
    });
  }

  return {
    cloudflare,
    cloudfront,
    configured: { cloudflare: cloudflareReady, cloudfront: Boolean(distributionId) },
    ...(distributionId ? { cloudfrontDistributionId: distributionId } : {}),
  };
}
