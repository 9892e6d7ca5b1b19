/**
 * The purge-retry Lambda's settings, parsed once per cold start: the retry queue it
 * consumes (lambdas/retry/retry-queue.ts) and the CDN settings it purges with
 * (lambdas/purge/config.ts). A bad or missing one fails with one error naming every
 * problem of both.
 */
import { combine, sourceOf, valueOrThrow } from "../../core/config";
import { PurgeConfigError, type PurgeSettings, readPurgeSettings } from "../purge/config";
import { type RetryQueueEnv, type RetryQueueSettings, readRetryQueueSettings } from "./retry-queue";

export interface RetryLambdaConfig {
  readonly retryQueue: RetryQueueSettings;
  readonly purge: PurgeSettings;
}

export function parseRetryLambdaConfig(env: RetryQueueEnv): RetryLambdaConfig {
  const source = sourceOf(env);
  return valueOrThrow(
    combine({
      retryQueue: readRetryQueueSettings(source, "required"),
      purge: readPurgeSettings(source),
    }),
    (problems) => new PurgeConfigError("purge-retry Lambda configuration", problems),
  );
}
