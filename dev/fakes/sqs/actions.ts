/**
 * The SQS actions the fake answers, in the shapes of the AWS JSON 1.0 protocol
 * `@aws-sdk/client-sqs` 3.x speaks: each takes the request's JSON input, checks it as
 * SQS does (limits, batch rules, attribute names) and answers SQS's output object or
 * throws SqsFakeError. The queues themselves are queue-model.ts; the HTTP envelope is app.ts.
 */
import { queueNameOf, type SqsAddresses } from "./addresses";
import { bodyProblem } from "./message-body";
import type { SqsQueue, SqsQueues } from "./queue-model";
import { invalidParameter, queueDoesNotExist, SqsFakeError } from "./sqs-error";

export type SqsInput = Record<string, unknown>;

/** An action's answer, and the queue it acted on (recorded with the request). */
export interface SqsActionResult {
  readonly queue?: string;
  readonly output: unknown;
}

export type SqsAction = (input: SqsInput) => SqsActionResult;

/** SendMessageBatch entries to fail on their own (`InternalError`), as a flaky SQS sometimes does. */
export class InjectedEntryFailures {
  #remaining = 0;

  add(count: number): void {
    this.#remaining += count;
  }

  /** True when the next entry must fail (and counts it). */
  take(): boolean {
    if (this.#remaining <= 0) return false;
    this.#remaining--;
    return true;
  }
}

export interface SqsActionsContext {
  readonly queues: SqsQueues;
  readonly addresses: SqsAddresses;
  /** Largest body, and largest sum of a batch's bodies. */
  readonly maxMessageBytes: number;
  readonly entryFailures: InjectedEntryFailures;
}

const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_DELAY_SECONDS = 900;
const RECEIVE_ATTRIBUTES = [
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
  "SentTimestamp",
  "SenderId",
  "DeadLetterQueueSourceArn",
] as const;
const QUEUE_ATTRIBUTES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "VisibilityTimeout",
  "DelaySeconds",
  "MaximumMessageSize",
  "QueueArn",
  "RedrivePolicy",
] as const;

function integerIn(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw invalidParameter(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: must be ${min}..${max}.`,
    );
  return value;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function refuseMessageAttributes(input: SqsInput): void {
  if (input.MessageAttributes !== undefined || input.MessageSystemAttributes !== undefined)
    throw new SqsFakeError(
      400,
      "UnsupportedOperation",
      "The SQS fake does not support message attributes.",
      "AWS.SimpleQueueService.UnsupportedOperation",
    );
}

/** SendMessageBatch's request-level rules; a breach fails the whole request. */
function checkBatch(entries: readonly SqsInput[], maxMessageBytes: number): void {
  if (entries.length === 0)
    throw new SqsFakeError(
      400,
      "EmptyBatchRequest",
      "There should be at least one SendMessageBatchRequestEntry in the request.",
      "AWS.SimpleQueueService.EmptyBatchRequest",
    );
  if (entries.length > 10)
    throw new SqsFakeError(
      400,
      "TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    );
  const ids = entries.map((entry) => entry.Id);
  for (const id of ids)
    if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id))
      throw new SqsFakeError(
        400,
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        "AWS.SimpleQueueService.InvalidBatchEntryId",
      );
  if (new Set(ids).size !== ids.length)
    throw new SqsFakeError(
      400,
      "BatchEntryIdsNotDistinct",
      "Two or more batch entries in the request have the same Id.",
      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    );
  const total = entries.reduce(
    (sum, entry) => sum + (typeof entry.MessageBody === "string" ? Buffer.byteLength(entry.MessageBody) : 0),
    0,
  );
  if (total > maxMessageBytes)
    throw new SqsFakeError(
      400,
      "BatchRequestTooLong",
      `Batch requests cannot be longer than ${maxMessageBytes} bytes. You have sent ${total} bytes.`,
      "AWS.SimpleQueueService.BatchRequestTooLong",
    );
  for (const entry of entries) refuseMessageAttributes(entry);
}

export function createSqsActions(context: SqsActionsContext): Readonly<Record<string, SqsAction>> {
  const { queues, addresses, maxMessageBytes, entryFailures } = context;

  const queueOf = (input: SqsInput): SqsQueue => {
    const queueUrl = input.QueueUrl;
    if (typeof queueUrl !== "string" || queueUrl === "")
      throw new SqsFakeError(400, "MissingParameter", "The request must contain the parameter QueueUrl.");
    const name = queueNameOf(queueUrl);
    const queue = name ? queues.get(name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  };

  /** One batch entry's answer: entries fail on their own, the others are sent. */
  const sendEntry = (queue: SqsQueue, entry: SqsInput) => {
    const problem = bodyProblem(entry.MessageBody, maxMessageBytes);
    if (problem)
      return {
        failed: { Id: entry.Id, SenderFault: true, Code: "InvalidMessageContents", Message: problem },
      };
    if (entryFailures.take())
      return {
        failed: { Id: entry.Id, SenderFault: false, Code: "InternalError", Message: "injected failure" },
      };
    let delay: number;
    try {
      delay = integerIn(entry.DelaySeconds, "DelaySeconds", 0, MAX_DELAY_SECONDS, queue.delaySeconds);
    } catch (error) {
      return {
        failed: { Id: entry.Id, SenderFault: true, Code: "InvalidParameterValue", Message: String(error) },
      };
    }
    const message = queues.send(queue, entry.MessageBody as string, delay);
    return {
      successful: { Id: entry.Id, MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody },
    };
  };

  return {
    GetQueueUrl(input) {
      const name = typeof input.QueueName === "string" ? input.QueueName : "";
      if (!queues.get(name)) throw queueDoesNotExist();
      return { queue: name, output: { QueueUrl: addresses.url(name) } };
    },

    SendMessage(input) {
      const queue = queueOf(input);
      refuseMessageAttributes(input);
      const problem = bodyProblem(input.MessageBody, maxMessageBytes);
      if (problem) throw new SqsFakeError(400, "InvalidMessageContents", problem);
      const delay = integerIn(input.DelaySeconds, "DelaySeconds", 0, MAX_DELAY_SECONDS, queue.delaySeconds);
      const message = queues.send(queue, input.MessageBody as string, delay);
      return {
        queue: queue.name,
        output: { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody },
      };
    },

    SendMessageBatch(input) {
      const queue = queueOf(input);
      const entries = Array.isArray(input.Entries) ? (input.Entries as SqsInput[]) : [];
      checkBatch(entries, maxMessageBytes);
      const successful: unknown[] = [];
      const failed: unknown[] = [];
      for (const entry of entries) {
        const answer = sendEntry(queue, entry);
        if (answer.failed) failed.push(answer.failed);
        else successful.push(answer.successful);
      }
      return { queue: queue.name, output: { Successful: successful, Failed: failed } };
    },

    ReceiveMessage(input) {
      const queue = queueOf(input);
      const max = integerIn(input.MaxNumberOfMessages, "MaxNumberOfMessages", 1, 10, 1);
      const visibility = integerIn(
        input.VisibilityTimeout,
        "VisibilityTimeout",
        0,
        MAX_VISIBILITY_SECONDS,
        queue.visibilityTimeoutSeconds,
      );
      integerIn(input.WaitTimeSeconds, "WaitTimeSeconds", 0, 20, 0);
      const wanted = new Set([
        ...stringList(input.AttributeNames),
        ...stringList(input.MessageSystemAttributeNames),
      ]);
      const wants = (name: string) => wanted.has(name) || wanted.has("All");
      const received = queues.receive(queue, max, visibility).map(({ message, receiptHandle }) => {
        const attributes: Record<string, string> = {};
        for (const name of RECEIVE_ATTRIBUTES) {
          if (!wants(name)) continue;
          if (name === "ApproximateReceiveCount") attributes[name] = String(message.receiveCount);
          if (name === "ApproximateFirstReceiveTimestamp") attributes[name] = String(message.firstReceivedAt);
          if (name === "SentTimestamp") attributes[name] = String(message.sentAt);
          if (name === "SenderId") attributes[name] = addresses.accountId;
          if (name === "DeadLetterQueueSourceArn" && message.deadLetterSourceQueue)
            attributes[name] = addresses.arn(message.deadLetterSourceQueue);
        }
        return {
          MessageId: message.messageId,
          ReceiptHandle: receiptHandle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
        };
      });
      // SQS answers `{}` when nothing is there.
      return { queue: queue.name, output: received.length > 0 ? { Messages: received } : {} };
    },

    DeleteMessage(input) {
      const queue = queueOf(input);
      queues.delete(queue, input.ReceiptHandle);
      return { queue: queue.name, output: {} };
    },

    ChangeMessageVisibility(input) {
      const queue = queueOf(input);
      const visibility = integerIn(
        input.VisibilityTimeout,
        "VisibilityTimeout",
        0,
        MAX_VISIBILITY_SECONDS,
        -1,
      );
      if (visibility < 0) throw invalidParameter("The request must contain the parameter VisibilityTimeout.");
      queues.changeVisibility(queue, input.ReceiptHandle, visibility);
      return { queue: queue.name, output: {} };
    },

    GetQueueAttributes(input) {
      const queue = queueOf(input);
      const names = stringList(input.AttributeNames);
      const unknown = names.filter(
        (name) => name !== "All" && !(QUEUE_ATTRIBUTES as readonly string[]).includes(name),
      );
      if (unknown.length > 0)
        throw new SqsFakeError(400, "InvalidAttributeName", `Unknown Attribute ${unknown.join(", ")}.`);
      const counts = queues.counts(queue);
      const values: Record<(typeof QUEUE_ATTRIBUTES)[number], string | undefined> = {
        ApproximateNumberOfMessages: String(counts.visible),
        ApproximateNumberOfMessagesNotVisible: String(counts["in-flight"]),
        ApproximateNumberOfMessagesDelayed: String(counts.delayed),
        VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
        DelaySeconds: String(queue.delaySeconds),
        MaximumMessageSize: String(maxMessageBytes),
        QueueArn: addresses.arn(queue.name),
        RedrivePolicy: queue.redrivePolicy
          ? JSON.stringify({
              deadLetterTargetArn: addresses.arn(queue.redrivePolicy.deadLetterQueue),
              maxReceiveCount: queue.redrivePolicy.maxReceiveCount,
            })
          : undefined,
      };
      const attributes: Record<string, string> = {};
      for (const name of QUEUE_ATTRIBUTES) {
        const value = values[name];
        if ((names.includes(name) || names.includes("All")) && value !== undefined) attributes[name] = value;
      }
      return {
        queue: queue.name,
        output: Object.keys(attributes).length > 0 ? { Attributes: attributes } : {},
      };
    },
  };
}
