/**
 * The purge-retry Lambda's settings, parsed once per cold start: the retry queue it
 * consumes (lambdas/retry/retry-queue.ts), the CDN settings it purges with
 * (lambdas/purge/config.ts) and, when it purges Workers Cache, the Redis that holds the
 * purge bucket it shares with the event Lambda (lambdas/shared/redis-settings.ts). A bad or
 * missing one fails with one error naming every problem of all of them.
 *
 * | variable                      | meaning                                                            |
 * |-------------------------------|--------------------------------------------------------------------|
 * | PURGE_RETRY_MAX_RECEIVE_COUNT | optional; the queue's redrive `maxReceiveCount` (1 to 1000), which  |
 * |                               | the handler cannot read from a message: with it, a failure on the   |
 * |                               | last receive is counted and logged as dead-lettered                 |
 */
import {
  type Checked,
  combine,
  integer,
  optional,
  readSettings,
  sourceOf,
  valid,
  valueOrThrow,
} from "../../core/config";
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
  /** The queue's redrive maxReceiveCount; undefined when not given (no dead-letter counting). */
  readonly maxReceiveCount: number | undefined;
}

const SETTINGS = {
  // SQS's own bounds for a redrive policy.
  maxReceiveCount: optional("PURGE_RETRY_MAX_RECEIVE_COUNT", integer({ min: 1, max: 1000 })),
};

export function parseRetryLambdaConfig(env: RetryQueueEnv): RetryLambdaConfig {
  const source = sourceOf(env);
  const redis: Checked<RedisSettings | undefined> = workersCacheConfigured(source)
    ? readRedisSettings(source)
    : valid(undefined);
  const { own, ...config } = valueOrThrow(
    combine({
      retryQueue: readRetryQueueSettings(source, "required"),
      purge: readPurgeSettings(source),
      redis,
      own: readSettings(source, SETTINGS),
    }),
    (problems) => new PurgeConfigError("purge-retry Lambda configuration", problems),
  );
  return { ...config, maxReceiveCount: own.maxReceiveCount };
}
