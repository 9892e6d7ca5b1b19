/**
 * The event Lambda's settings, parsed once per cold start into one object the app is
 * built from (lambdas/events/build.ts): its own, the CDN settings of the purgers
 * (lambdas/purge/config.ts) and the retry queue's (lambdas/retry/retry-queue.ts). A bad
 * or missing one fails with one error naming every problem of all three. Secrets arrive
 * already resolved (the Lambda reads them from Secrets Manager, lambdas/shared/secret-env.ts;
 * the local stack passes them in).
 *
 * | variable                 | meaning                                                          |
 * |--------------------------|------------------------------------------------------------------|
 * | UPSTASH_REDIS_REST_URL   | required http(s) URL                                             |
 * | UPSTASH_REDIS_REST_TOKEN | required (a secret)                                              |
 * | WEBHOOK_SECRETS          | required: one `whsec_…` secret, or two comma-separated during a rotation |
 * | KEY_PREFIX               | optional; must match the Worker's (default `ec`)                 |
 * | CACHE_POLICIES           | optional; the Worker's overrides, so write-through TTLs match its fills, |
 * |                          | and Workers Cache purges skip the tags whose front TTL is short enough  |
 *
 * The Redis settings are lambdas/shared/redis-settings.ts's (the retry Lambda reads the same
 * ones for the shared Workers Cache purge bucket).
 */
import {
  ConfigError,
  cachePoliciesSetting,
  combine,
  commaList,
  matching,
  readSettings,
  required,
  sourceOf,
  valueOrThrow,
} from "../../core/config";
import type { DataClassPolicies } from "../../core/data-classes";
import { type PurgeSettings, readPurgeSettings } from "../purge/config";
import { type RetryQueueSettings, readRetryQueueSettings } from "../retry/retry-queue";
import { REDIS_SETTINGS } from "../shared/redis-settings";

export class EventsConfigError extends ConfigError {
  override readonly name = "EventsConfigError";
}

const webhookSecret = matching(/^whsec_[A-Za-z0-9+/=]{16,}$/, "a secret like whsec_<base64>");

const { redisUrl, redisToken, keyPrefix } = REDIS_SETTINGS;
const SETTINGS = {
  redisUrl,
  redisToken,
  /** One secret, or two during a rotation. */
  secrets: required("WEBHOOK_SECRETS", commaList(webhookSecret, { min: 1, max: 2 }), { secret: true }),
  keyPrefix,
  policies: cachePoliciesSetting,
};

export interface EventsConfig {
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly secrets: readonly string[];
  readonly keyPrefix: string;
  /** The data-class policies; each written record lives its class's `l2TtlSeconds` in Redis. */
  readonly policies: DataClassPolicies;
  readonly purge: PurgeSettings;
  /** Undefined without PURGE_RETRY_QUEUE_URL: a failed purge then leaves its event unsettled. */
  readonly retryQueue: RetryQueueSettings | undefined;
}

export function parseEventsConfig(env: Readonly<Record<string, string | undefined>>): EventsConfig {
  const source = sourceOf(env);
  const { events, purge, retryQueue } = valueOrThrow(
    combine({
      events: readSettings(source, SETTINGS),
      purge: readPurgeSettings(source),
      retryQueue: readRetryQueueSettings(source),
    }),
    (problems) => new EventsConfigError("event Lambda configuration", problems),
  );
  return { ...events, purge, retryQueue };
}
