/**
 * What Lambda's SQS event source mapping does, for the local stack: receive a batch
 * from the retry queue (up to `receivesPerPoll` ReceiveMessage calls, as a batching
 * window gathers more than SQS's 10 per receive), hand it to the retry handler as one
 * SQS event, delete the messages it did not report in `batchItemFailures`, and leave those for their
 * visibility timeout (which the handler has set to its back-off). A handler that
 * throws, or names a message that was not in the batch, fails the whole batch, as in
 * Lambda. Polls every `intervalMs` until stopped; errors are logged, never thrown.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { systemTimers, type Timers } from "../../core/time/clock";
import { errorMessage } from "../../lambdas/purge/purger";
import type { RetryHandler, SqsRecord } from "../../lambdas/retry/handler";

export interface RetryPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: RetryHandler;
  /** Between polls (default 1,000 ms). */
  readonly intervalMs?: number;
  /** Messages per ReceiveMessage call, 1..10 (default 10). */
  readonly batchSize?: number;
  /**
   * ReceiveMessage calls per poll, all handed over as one batch (default 10): the handler
   * coalesces CloudFront messages within a batch, so a burst should arrive in few batches.
   */
  readonly receivesPerPoll?: number;
  /** How long a received message stays invisible while the handler works (default: the queue's). */
  readonly visibilityTimeoutSeconds?: number;
  readonly timers?: Timers;
  readonly logger?: Pick<Console, "warn">;
}

export interface PollResult {
  readonly received: number;
  readonly deleted: number;
  readonly failed: number;
}

export interface RetryPoller {
  /** One receive → handle → delete round (the timer calls it; tests call it directly). */
  pollOnce(): Promise<PollResult>;
  /** Stops polling and waits for a round in progress. */
  stop(): Promise<void>;
}

export function createRetryPoller(options: RetryPollerOptions): RetryPoller {
  const { sqs, queueUrl, handler } = options;
  const logger = options.logger ?? console;
  const eventSourceARN = `arn:aws:sqs:local:000000000000:${queueUrl.split("/").pop()}`;

  const batchSize = options.batchSize ?? 10;
  const receivesPerPoll = options.receivesPerPoll ?? 10;
  const receive = async () => {
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: [
          "ApproximateReceiveCount",
          "ApproximateFirstReceiveTimestamp",
          "SentTimestamp",
        ],
        ...(options.visibilityTimeoutSeconds !== undefined
          ? { VisibilityTimeout: options.visibilityTimeoutSeconds }
          : {}),
      }),
    );
    return response.Messages ?? [];
  };

  const pollOnce = async (): Promise<PollResult> => {
    const messages = await receive();
    // A short receive means the queue has nothing more visible now.
    for (let call = 1; call < receivesPerPoll && messages.length === call * batchSize; call++)
      messages.push(...(await receive()));
    if (messages.length === 0) return { received: 0, deleted: 0, failed: 0 };
    const records: SqsRecord[] = messages.map((message) => ({
      messageId: message.MessageId ?? "",
      receiptHandle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: { ...message.Attributes },
      eventSourceARN,
    }));
    let keep: Set<string>;
    try {
      const { batchItemFailures } = await handler({ Records: records });
      keep = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      if ([...keep].some((id) => !records.some((record) => record.messageId === id)))
        throw new Error(`batchItemFailures names a message not in the batch: ${[...keep].join(", ")}`);
    } catch (error) {
      logger.warn(`[purge-retry poller] the handler failed the whole batch: ${errorMessage(error)}`);
      keep = new Set(records.map((record) => record.messageId));
    }
    let deleted = 0;
    for (const record of records) {
      if (keep.has(record.messageId)) continue;
      try {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
        deleted++;
      } catch (error) {
        // It comes back after its visibility timeout and is retried (purges are idempotent).
        logger.warn(`[purge-retry poller] could not delete ${record.messageId}: ${errorMessage(error)}`);
      }
    }
    return { received: records.length, deleted, failed: keep.size };
  };

  const timers = options.timers ?? systemTimers;
  const intervalMs = options.intervalMs ?? 1_000;
  let stopped = false;
  let timer: unknown;
  let round: Promise<unknown> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      round = pollOnce()
        .catch((error: unknown) => logger.warn(`[purge-retry poller] receive failed: ${errorMessage(error)}`))
        .finally(schedule);
    }, intervalMs);
  };
  schedule();

  return {
    pollOnce,
    async stop() {
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await round;
    },
  };
}
