/**
 * The purge-retry Lambda: an SQS event source on the retry queue, with partial batch
 * responses (`ReportBatchItemFailures`). For each message it replays the purge
 * (`Purger.retry`) and reports the ones that failed again in `batchItemFailures`, so
 * SQS deletes only the others. A failed message's visibility timeout is set to an
 * exponential back-off from its receive count (30 s · 2^(n-1), at most 15 min); after
 * the queue's `maxReceiveCount` receives its redrive policy moves it to the dead-letter
 * queue (alarmed), so nothing is retried forever and nothing is dropped.
 *
 * CloudFront messages are coalesced: all of a batch's messages for one distribution are
 * replayed as one invalidation of the union of their paths, and succeed or fail together.
 * The event app defers every delivery's CloudFront purge to this queue, so this is where a
 * burst of events becomes a few invalidations.
 *
 * Workers Cache messages are merged the same way: all of a batch's are planned together
 * (lambdas/purge/workers-cache/planner.ts) into as few calls as the shared purge bucket
 * allows, by tag, else by route prefix, else everything. What could not be sent (no token,
 * a 503 from the Worker) is owed again: each message that still owes any of its items is
 * reported failed and comes back with the back-off (a replay sends it whole; purges are
 * idempotent); the others are done. The event source gathers a batch for the purge window
 * (WORKERS_CACHE_PURGE_WINDOW_MS, cdk/lib/edge-cache-stack.ts), so a burst is a few batches.
 *
 * A retry replays the whole description, also after a partly successful attempt: purges
 * are idempotent (CloudFront even answers the same CallerReference with the same
 * invalidation), and the message keeps its receive count, which bounds the retries.
 *
 * Each message's replay is a line naming its SQS message id (the id the event Lambda logged
 * when it queued it) and the events it carries, with PurgesRetried / PurgesRetryFailed per
 * provider and, when done, QueuedPurgeAge. A message that fails its last receive (the
 * queue's maxReceiveCount, PURGE_RETRY_MAX_RECEIVE_COUNT: a message does not say it) goes to
 * the DLQ next: that failure is an error line and PurgesDeadLettered.
 *
 * Settings: PURGE_RETRY_QUEUE_URL (and SQS_ENDPOINT, AWS_REGION; lambdas/retry/retry-queue.ts),
 * PURGE_RETRY_MAX_RECEIVE_COUNT (lambdas/retry/config.ts), the CDN settings of
 * lambdas/purge/config.ts and, with Workers Cache, Redis for its purge bucket
 * (lambdas/shared/redis-settings.ts).
 */
import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createKeyspace } from "../../core/keys";
import { backoffDelay } from "../../core/time/backoff";
import { type Clock, systemClock } from "../../core/time/clock";
import { type CloudFrontRetry, mergeCloudFrontRetries } from "../purge/cloudfront";
import { createPurgers, isConfigured, type Purgers, type PurgersOptions, purgerFor } from "../purge/config";
import { errorMessage, type PurgeOutcome, type PurgeRetry } from "../purge/purger";
import { mergeWorkersCacheRetries, stillOwes, type WorkersCacheRetry } from "../purge/workers-cache";
import { type Logger, loggedIds, withFields } from "../shared/logger";
import { type Metrics, NO_METRICS } from "../shared/metrics";
import { createEmfMetrics, createLambdaLogger } from "../shared/powertools";
import { redisClient } from "../shared/redis-settings";
import { resolveSecretEnv } from "../shared/secret-env";
import { parseRetryLambdaConfig, type RetryLambdaConfig } from "./config";
import { decodeRetryMessage, type RetryMessage } from "./message";
import { createSqsClient } from "./retry-queue";

/** The parts of Lambda's SQS event record this handler reads (the shape of @types/aws-lambda's SQSRecord). */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: { readonly ApproximateReceiveCount?: string } & Readonly<Record<string, string>>;
  readonly eventSourceARN?: string;
}

export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/** Lambda's partial batch response: the messages to keep (all others are deleted). */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export interface RetryBackoff {
  /** The delay after the first failed receive (default 30 s). */
  readonly baseSeconds?: number;
  /** The longest delay (default 15 min). */
  readonly maxSeconds?: number;
}

/** Seconds until a message that failed its `receiveCount`-th receive is tried again. */
export function retryDelaySeconds(receiveCount: number, backoff: RetryBackoff = {}): number {
  // Without jitter: the messages of a failed coalesced CloudFront batch share a receive count,
  // so they come back together and are merged again.
  return backoffDelay(receiveCount, { base: backoff.baseSeconds ?? 30, max: backoff.maxSeconds ?? 15 * 60 });
}

export interface RetryHandlerOptions {
  readonly purgers: Purgers;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly backoff?: RetryBackoff;
  /**
   * The queue's redrive maxReceiveCount: a failure on that receive is the message's last before
   * the DLQ (counted as dead-lettered). Unknown (undefined), no failure is counted so.
   */
  readonly maxReceiveCount?: number;
  /** Wall-clock time: how long a purge waited since it was queued (`firstFailedAt`), and batch latency. */
  readonly clock?: Clock;
}

export type RetryHandler = (event: SqsEvent) => Promise<SqsBatchResponse>;

/** Why a purge failed this time (undefined: it is done), and what its failed outcome still owes. */
async function replayOutcome(
  purgers: Purgers,
  retry: PurgeRetry,
): Promise<{ readonly failed: string | undefined; readonly owed?: PurgeRetry }> {
  let outcome: PurgeOutcome;
  try {
    outcome = await purgerFor(purgers, retry.provider).retry(retry);
  } catch (error) {
    return { failed: errorMessage(error) };
  }
  if (!outcome.ok) return { failed: outcome.error, owed: outcome.retry };
  // A logging purger "succeeds" without purging: a retry Lambda deployed without this
  // provider's settings must keep the message (and alarm through the DLQ), not drop it.
  if (outcome.skipped || !isConfigured(purgers, retry.provider))
    return { failed: `${retry.provider} is not configured in the retry handler` };
  return { failed: undefined };
}

async function replay(purgers: Purgers, retry: PurgeRetry): Promise<string | undefined> {
  return (await replayOutcome(purgers, retry)).failed;
}

export function createRetryHandler(options: RetryHandlerOptions): RetryHandler {
  const { purgers, sqs, queueUrl, maxReceiveCount } = options;
  const logger = options.logger ?? console;
  const metrics = options.metrics ?? NO_METRICS;
  const clock = options.clock ?? systemClock;

  /** The fields saying when the message comes back. */
  const backOff = async (record: SqsRecord, receiveCount: number) => {
    const delay = retryDelaySeconds(receiveCount, options.backoff);
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: delay,
        }),
      );
      return { nextAttemptSeconds: delay };
    } catch (error) {
      // The message still comes back, after the queue's own visibility timeout.
      return { nextAttemptSeconds: null, backoffError: errorMessage(error) };
    }
  };

  /** True when this failure is the message's last receive: SQS moves it to the DLQ next. */
  const isLastReceive = (receiveCount: number) =>
    maxReceiveCount !== undefined && receiveCount >= maxReceiveCount;

  return async (event) => {
    const started = clock.now();
    const failures: Array<{ itemIdentifier: string }> = [];
    let done = 0;
    let poison = 0;
    let deadLettered = 0;
    /** A message's lines: its id and receive count, and the events it carries. */
    const messageLog = (record: SqsRecord, receiveCount: number, message?: RetryMessage) =>
      withFields(logger, {
        messageId: record.messageId,
        receiveCount,
        ...(maxReceiveCount !== undefined ? { maxReceiveCount } : {}),
        ...(message
          ? {
              provider: message.retry.provider,
              eventCount: message.eventIds.length,
              eventIds: loggedIds(message.eventIds),
              firstFailedAt: message.firstFailedAt,
            }
          : {}),
      });
    const settle = async (
      record: SqsRecord,
      message: RetryMessage,
      receiveCount: number,
      failed: string | undefined,
    ) => {
      const log = messageLog(record, receiveCount, message);
      const provider = message.retry.provider;
      metrics.add("PurgesRetried", 1, { provider });
      if (failed === undefined) {
        done++;
        const queued = Date.parse(message.firstFailedAt);
        const ageMs = Number.isNaN(queued) ? undefined : Math.max(0, clock.now() - queued);
        if (ageMs !== undefined) metrics.add("QueuedPurgeAge", ageMs, { provider });
        log.info("purge retry done", ageMs !== undefined ? { ageMs } : {});
        return;
      }
      metrics.add("PurgesRetryFailed", 1, { provider });
      const fields = { error: failed, ...(await backOff(record, receiveCount)) };
      if (isLastReceive(receiveCount)) {
        deadLettered++;
        metrics.add("PurgesDeadLettered", 1);
        log.error("purge retry failed its last receive: the message goes to the dead-letter queue", fields);
      } else {
        log.warn("purge retry failed again", fields);
      }
      failures.push({ itemIdentifier: record.messageId });
    };

    // CloudFront messages of one distribution become one invalidation: the event app defers
    // every delivery's paths here, and one CreateInvalidation per message would spend
    // CloudFront's in-flight wildcard budget as fast as the request path did.
    const cloudfront = new Map<
      string,
      Array<{ record: SqsRecord; message: RetryMessage; retry: CloudFrontRetry; receiveCount: number }>
    >();
    // Workers Cache messages are planned together: one Worker, one purge bucket.
    const workersCache: Array<{
      record: SqsRecord;
      message: RetryMessage;
      retry: WorkersCacheRetry;
      receiveCount: number;
    }> = [];
    // One message at a time: a retry usually follows rate limiting, and a burst of
    // parallel purges would drain the provider's budget again (Cloudflare sends one
    // chunk at a time for the same reason; CloudFront's batcher serialises anyway).
    for (const record of event.Records) {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? "1");
      const decoded = decodeRetryMessage(record.body);
      if (!decoded.ok) {
        // Poison: reported as failed, not acknowledged. The queue's redrive policy then moves
        // it to the dead-letter queue after maxReceiveCount receives, where the DLQ alarm
        // shows it and it can be read (and redriven) later. A body this code cannot read may
        // still be a real purge, e.g. a newer message version written during a deploy, so
        // deleting it could lose a purge. The redrive policy bounds the loop (a queue without
        // one would return it every 15 min forever: the CDK queue must have one), and it
        // never throws, which would fail (and repeat) the whole batch.
        // The body is not logged: it is unknown text, and the DLQ keeps it to be read.
        poison++;
        metrics.add("PoisonMessages", 1);
        const last = isLastReceive(receiveCount);
        if (last) {
          deadLettered++;
          metrics.add("PurgesDeadLettered", 1);
        }
        messageLog(record, receiveCount).error("poison retry message", {
          problem: decoded.poison,
          bodyBytes: Buffer.byteLength(record.body),
          lastReceive: last,
          ...(await backOff(record, receiveCount)),
        });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const { retry } = decoded.message;
      if (retry.provider === "cloudfront") {
        const group = cloudfront.get(retry.distributionId) ?? [];
        group.push({ record, message: decoded.message, retry, receiveCount });
        cloudfront.set(retry.distributionId, group);
        continue;
      }
      if (retry.provider === "workers-cache") {
        workersCache.push({ record, message: decoded.message, retry, receiveCount });
        continue;
      }
      await settle(record, decoded.message, receiveCount, await replay(purgers, retry));
    }

    for (const [distributionId, group] of cloudfront) {
      // The same set of messages (a retried batch) gives the same CallerReference.
      const merged = mergeCloudFrontRetries(group.map(({ retry }) => retry));
      // All or nothing: a partly sent invalidation is replayed whole, which is idempotent.
      const failed = await replay(purgers, merged);
      if (group.length > 1)
        logger.info("CloudFront retry messages replayed as one invalidation", {
          provider: "cloudfront",
          distributionId,
          messages: group.length,
          messageIds: loggedIds(group.map(({ record }) => record.messageId)),
        });
      for (const { record, message, receiveCount } of group)
        await settle(record, message, receiveCount, failed);
    }

    if (workersCache.length > 0) {
      const merged = mergeWorkersCacheRetries(workersCache.map(({ retry }) => retry));
      const { failed, owed } = await replayOutcome(purgers, merged);
      const stillOwed = owed?.provider === "workers-cache" ? owed : undefined;
      if (workersCache.length > 1)
        logger.info("Workers Cache retry messages planned together", {
          provider: "workers-cache",
          messages: workersCache.length,
          messageIds: loggedIds(workersCache.map(({ record }) => record.messageId)),
        });
      // A message none of whose items is still owed is done, even when others of the batch are not.
      for (const { record, message, retry, receiveCount } of workersCache)
        await settle(
          record,
          message,
          receiveCount,
          failed !== undefined && stillOwes(stillOwed, retry) ? failed : undefined,
        );
    }

    await Promise.all([purgers.cloudflare.flush(), purgers.cloudfront.flush(), purgers.workersCache.flush()]);
    logger.info("purge retry batch", {
      messages: event.Records.length,
      done,
      failedAgain: failures.length - poison,
      poison,
      deadLettered,
      latencyMs: clock.now() - started,
    });
    return { batchItemFailures: failures };
  };
}

/** The purgers the retry Lambda's configuration names, with Redis for the Workers Cache bucket when it is purged. */
export function retryPurgers(
  config: RetryLambdaConfig,
  options: Omit<PurgersOptions, "redis"> = {},
): Purgers {
  const redis = config.redis && {
    client: redisClient(config.redis),
    keys: createKeyspace(config.redis.keyPrefix),
  };
  return createPurgers(config.purge, { ...options, ...(redis ? { redis } : {}) });
}

/** Builds the handler from the environment (once per cold start in Lambda). */
export function retryHandlerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  dependencies: { readonly logger?: Logger; readonly metrics?: Metrics } = {},
): RetryHandler {
  // Every setting is read before anything is built: one PurgeConfigError names all the bad ones.
  const config = parseRetryLambdaConfig(env);
  return createRetryHandler({
    purgers: retryPurgers(config, dependencies),
    sqs: createSqsClient(config.retryQueue),
    queueUrl: config.retryQueue.queueUrl,
    ...dependencies,
    ...(config.maxReceiveCount !== undefined ? { maxReceiveCount: config.maxReceiveCount } : {}),
  });
}

/** The Lambda context fields the logger takes (the shape of @types/aws-lambda's Context). */
export interface RetryLambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
}

// Built once per cold start (module scope), like the handler below (lambdas/shared/powertools.ts).
const lambdaLogger = createLambdaLogger("gpu-edge-cache-retry");
const lambdaMetrics = createEmfMetrics({
  onError: (error) => lambdaLogger.warn("metrics not written", { error: String(error) }),
});

let built: Promise<RetryHandler> | undefined;

/** The Lambda entry (SQS event source with ReportBatchItemFailures). */
export const handler = async (event: SqsEvent, context: RetryLambdaContext): Promise<SqsBatchResponse> => {
  lambdaLogger.addContext(context);
  // A bad setting fails the invocation (the whole batch comes back and is retried), and
  // the next invocation tries the cold start again instead of caching the failure.
  built ??= resolveSecretEnv(process.env)
    .then((env) => retryHandlerFromEnv(env, { logger: lambdaLogger, metrics: lambdaMetrics }))
    .catch((error: unknown) => {
      built = undefined;
      throw error;
    });
  try {
    return await (await built)(event);
  } finally {
    lambdaMetrics.flush();
  }
};
