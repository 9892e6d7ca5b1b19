/**
 * The purge-retry Lambda's settings, parsed once per cold start: the retry queue it
 * consumes (lambdas/retry/retry-queue.ts), the CDN settings it purges with
 * (lambdas/purge/config.ts) and, when it purges Workers Cache, the Redis that holds the
 * purge bucket it shares with the event Lambda (lambdas/shared/redis-settings.ts). A bad or
 * missing one fails with one error naming every problem of all of them.
 */
import { type Checked, combine, sourceOf, valid, valueOrThrow } from "../../core/config";
import {
  PurgeConfigError,
  type PurgeSettings,
  readPurgeSettings,
  workersCacheConfigured,
} from "../purge/config";
import { type RedisSettings, readRedisSettings } from "../shared/redis-settings";
import { type RetryQueueEnv, type RetryQueueSettings, readRetryQueueSettings } from "./retry-queue";

export interface RetryLambdaConfig {
  readonly retryQueue: RetryQueueSettings;
  readonly purge: PurgeSettings;
  /** Undefined without Workers Cache: nothing else here needs Redis. */
  readonly redis: RedisSettings | undefined;
}

export function parseRetryLambdaConfig(env: RetryQueueEnv): RetryLambdaConfig {
  const source = sourceOf(env);
  const redis: Checked<RedisSettings | undefined> = workersCacheConfigured(source)
    ? readRedisSettings(source)
    : valid(undefined);
  return valueOrThrow(
    combine({
      retryQueue: readRetryQueueSettings(source, "required"),
      purge: readPurgeSettings(source),
      redis,
    }),
    (problems) => new PurgeConfigError("purge-retry Lambda configuration", problems),
  );
}
