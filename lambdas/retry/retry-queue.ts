/**
 * The producer side of the purge-retry queue: `enqueue` sends retry messages with
 * `SendMessageBatch` (at most 10 entries and `maxBatchBytes` a call) and reports each
 * message on its own, so the caller settles exactly the events whose purges are
 * safely queued. It never throws: a call that fails (after the SDK's own retries)
 * fails its entries, and SQS's per-entry failures are reported as they came.
 * Failed entries are not retried here: the event stays unsettled and the webhook
 * sender's re-delivery queues it again.
 *
 * A message queued twice (e.g. the answer was lost after SQS took it) costs one
 * extra purge, which is harmless: purges are idempotent.
 *
 * Settings (both Lambdas' environment; `readRetryQueueSettings`, read with core/config):
 *
 * | variable              | meaning                                                               |
 * |-----------------------|-----------------------------------------------------------------------|
 * | PURGE_RETRY_QUEUE_URL | the retry queue (http(s) URL); unset: no queue (failed purges stay unsettled) |
 * |                       | in the event Lambda; required by the retry Lambda                       |
 * | SQS_ENDPOINT          | optional URL; `http://127.0.0.1:PORT` for the local fake (dev/fakes/sqs/) |
 * | AWS_REGION            | set by Lambda; otherwise taken from the queue URL (us-east-1 locally)  |
 */
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  type Checked,
  httpUrl,
  mapChecked,
  optional,
  readSettings,
  required,
  type SettingSource,
  sourceOf,
  text,
  url,
  valueOrThrow,
} from "../../core/config";
import { PurgeConfigError } from "../purge/config";
import { errorMessage } from "../purge/purger";
import { isLoopbackEndpoint, LOCAL_FAKE_CREDENTIALS } from "../shared/local-endpoint";
import { encodeRetryMessage, MAX_RETRY_MESSAGE_BYTES, type RetryMessage } from "./message";

/** SQS's limit on entries per SendMessageBatch. */
export const SQS_MAX_BATCH_ENTRIES = 10;

export type EnqueueResult =
  | { readonly ok: true; readonly messageId: string }
  | { readonly ok: false; readonly error: string };

export interface RetryQueue {
  readonly queueUrl: string;
  /** One result per message, in order; never throws. */
  enqueue(messages: readonly RetryMessage[], options?: EnqueueOptions): Promise<EnqueueResult[]>;
}

export interface EnqueueOptions {
  /**
   * Overrides the queue's delay for these messages: a purge deferred on purpose (not failed) is
   * due almost at once, not after the failure back-off.
   */
  readonly delaySeconds?: number;
}

export interface RetryQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /**
   * How long a new message stays invisible (default 30 s, the handler's first back-off
   * step): the purge has just failed its in-process retries, an immediate retry would too.
   */
  readonly delaySeconds?: number;
  /** Largest body, and largest sum of bodies per SendMessageBatch (default 256 KiB). */
  readonly maxBatchBytes?: number;
}

export const DEFAULT_RETRY_DELAY_SECONDS = 30;

interface Entry {
  readonly index: number;
  readonly body: string;
  readonly bytes: number;
}

export function createRetryQueue(options: RetryQueueOptions): RetryQueue {
  const delaySeconds = options.delaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS;
  const maxBatchBytes = options.maxBatchBytes ?? MAX_RETRY_MESSAGE_BYTES;
  if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900)
    throw new RangeError(`delaySeconds must be 0..900, got ${delaySeconds}`);

  const send = async (batch: readonly Entry[], results: EnqueueResult[], delaySeconds: number) => {
    try {
      const response = await options.client.send(
        new SendMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: batch.map((entry) => ({
            Id: `m${entry.index}`,
            MessageBody: entry.body,
            DelaySeconds: delaySeconds,
          })),
        }),
      );
      for (const done of response.Successful ?? []) {
        const index = Number(done.Id?.slice(1));
        if (done.MessageId) results[index] = { ok: true, messageId: done.MessageId };
      }
      for (const failed of response.Failed ?? []) {
        const index = Number(failed.Id?.slice(1));
        results[index] = {
          ok: false,
          error: `${failed.Code ?? "Unknown"}${failed.SenderFault ? " (sender fault)" : ""}: ${failed.Message ?? "no message"}`,
        };
      }
    } catch (error) {
      for (const entry of batch) results[entry.index] = { ok: false, error: errorMessage(error) };
    }
  };

  return {
    queueUrl: options.queueUrl,
    async enqueue(messages, enqueueOptions = {}) {
      const delay = enqueueOptions.delaySeconds ?? delaySeconds;
      if (!Number.isInteger(delay) || delay < 0 || delay > 900)
        return messages.map(() => ({ ok: false, error: `delaySeconds must be 0..900, got ${delay}` }));
      const results: EnqueueResult[] = messages.map(() => ({
        ok: false,
        error: "SQS answered without this entry",
      }));
      const batches: Entry[][] = [];
      let current: Entry[] = [];
      let currentBytes = 0;
      for (const [index, message] of messages.entries()) {
        let body: string;
        try {
          body = encodeRetryMessage(message);
        } catch (error) {
          results[index] = { ok: false, error: `not a valid retry message: ${errorMessage(error)}` };
          continue;
        }
        const bytes = Buffer.byteLength(body);
        if (bytes > maxBatchBytes) {
          results[index] = { ok: false, error: `message of ${bytes} bytes exceeds ${maxBatchBytes}` };
          continue;
        }
        if (current.length === SQS_MAX_BATCH_ENTRIES || currentBytes + bytes > maxBatchBytes) {
          batches.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push({ index, body, bytes });
        currentBytes += bytes;
      }
      if (current.length > 0) batches.push(current);
      await Promise.all(batches.map((batch) => send(batch, results, delay)));
      return results;
    },
  };
}

export type RetryQueueEnv = Readonly<Record<string, string | undefined>>;

export interface RetryQueueSettings {
  readonly queueUrl: string;
  readonly sqsEndpoint: string | undefined;
  readonly region: string | undefined;
}

const CONNECTION_SETTINGS = {
  sqsEndpoint: optional("SQS_ENDPOINT", url()),
  region: optional("AWS_REGION", text()),
};

/**
 * The retry queue's settings. The event Lambda runs without a queue (`optional`: undefined
 * when PURGE_RETRY_QUEUE_URL is unset); the retry Lambda consumes it (`required`).
 */
export function readRetryQueueSettings(
  source: SettingSource,
  presence: "required",
): Checked<RetryQueueSettings>;
export function readRetryQueueSettings(
  source: SettingSource,
  presence?: "optional",
): Checked<RetryQueueSettings | undefined>;
export function readRetryQueueSettings(
  source: SettingSource,
  presence: "optional" | "required" = "optional",
): Checked<RetryQueueSettings | undefined> {
  const queueUrl =
    presence === "required"
      ? required("PURGE_RETRY_QUEUE_URL", httpUrl)
      : optional("PURGE_RETRY_QUEUE_URL", httpUrl);
  return mapChecked(readSettings(source, { queueUrl, ...CONNECTION_SETTINGS }), (read) =>
    read.queueUrl === undefined
      ? undefined
      : { queueUrl: read.queueUrl, sqsEndpoint: read.sqsEndpoint, region: read.region },
  );
}

/** The retry queue's settings alone; undefined when PURGE_RETRY_QUEUE_URL is unset. */
export function parseRetryQueueSettings(env: RetryQueueEnv): RetryQueueSettings | undefined {
  return valueOrThrow(
    readRetryQueueSettings(sourceOf(env)),
    (problems) => new PurgeConfigError("retry queue configuration", problems),
  );
}

/** `https://sqs.eu-west-1.amazonaws.com/123456789012/name` → `eu-west-1`. */
function regionOfQueueUrl(queueUrl: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(queueUrl)?.[1];
}

/** An SQS client for the queue, pointed at SQS_ENDPOINT when set. */
export function createSqsClient(settings: RetryQueueSettings): SQSClient {
  const endpoint = settings.sqsEndpoint;
  const local = endpoint !== undefined && isLoopbackEndpoint(endpoint);
  const region = settings.region ?? regionOfQueueUrl(settings.queueUrl) ?? (local ? "us-east-1" : undefined);
  return new SQSClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    // The local fake checks only that requests are signed; never send real credentials to it.
    ...(local ? { credentials: LOCAL_FAKE_CREDENTIALS } : {}),
  });
}

/** The retry queue the settings name, with its own SQS client. */
export function retryQueueFor(settings: RetryQueueSettings): RetryQueue {
  return createRetryQueue({ client: createSqsClient(settings), queueUrl: settings.queueUrl });
}

/** The retry queue PURGE_RETRY_QUEUE_URL names; undefined when it is unset (failed purges stay unsettled). */
export function retryQueueFromEnv(env: RetryQueueEnv): RetryQueue | undefined {
  const settings = parseRetryQueueSettings(env);
  return settings ? retryQueueFor(settings) : undefined;
}
