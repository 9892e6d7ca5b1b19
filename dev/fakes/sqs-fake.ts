/**
 * A local SQS speaking the wire protocol of `@aws-sdk/client-sqs` 3.x: AWS JSON 1.0,
 * `POST /` with `X-Amz-Target: AmazonSQS.<Action>` and
 * `Content-Type: application/x-amz-json-1.0`, errors as `{"__type", "message"}` plus the
 * `x-amzn-query-error` header the SDK maps to its error classes (`QueueDoesNotExist`,
 * `ReceiptHandleIsInvalid`, …). Point the real SDK at it with `endpoint: fake.url`.
 *
 * Actions: SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage,
 * ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl. Bodies carry a correct
 * `MD5OfMessageBody` / `MD5OfBody` (hex MD5 of the UTF-8 body), which the SDK checks and
 * rejects otherwise. Queues exist from the options (no CreateQueue); a queue with a
 * redrive policy moves a message to its dead-letter queue when a receive finds it
 * visible after `maxReceiveCount` receives, as SQS does. Time comes from `now`, so
 * visibility timeouts and delays are tested by moving a clock, not by sleeping.
 *
 * Not emulated: long polling (WaitTimeSeconds answers at once), message attributes
 * (refused), FIFO queues, the 12-hour visibility ceiling, DeleteMessageBatch.
 * `GET /_fake/queues` shows every queue and its messages (for people).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Hono } from "hono";
import { serveApp } from "../support/serve-app";

export const SQS_JSON_CONTENT_TYPE = "application/x-amz-json-1.0";

export interface SqsFakeQueueOptions {
  readonly name: string;
  /** The queue's default visibility timeout, in seconds (default 30). */
  readonly visibilityTimeoutSeconds?: number;
  /** The queue's default delivery delay, in seconds (default 0). */
  readonly delaySeconds?: number;
  /** Move a message to `deadLetterQueue` (another queue of this fake) after `maxReceiveCount` receives. */
  readonly redrivePolicy?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
}

export interface SqsFakeOptions {
  readonly queues: readonly SqsFakeQueueOptions[];
  /** 0 or unset: a free port. */
  readonly port?: number;
  readonly hostname?: string;
  /** Milliseconds (default Date.now). */
  readonly now?: () => number;
  /** In queue URLs and ARNs (default 000000000000 and us-east-1). */
  readonly accountId?: string;
  readonly region?: string;
  /** Largest body, and largest sum of a batch's bodies (default 262,144 bytes). */
  readonly maxMessageBytes?: number;
}

export interface SqsFakeMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** Milliseconds on the fake's clock. */
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly firstReceivedAt?: number;
  /** When it can be received (again). */
  readonly visibleAt: number;
  readonly state: "visible" | "delayed" | "in-flight";
  /** The queue it was moved from, for a message in a dead-letter queue. */
  readonly deadLetterSourceQueue?: string;
}

export interface RecordedSqsRequest {
  readonly action: string;
  readonly status: number;
  /** The queue's name, when the request named an existing one. */
  readonly queue?: string;
  /** The error code, for a failed request. */
  readonly code?: string;
  /** The request body as the SDK sent it (JSON). */
  readonly input: Readonly<Record<string, unknown>>;
}

export interface SqsFake {
  readonly url: string;
  /** The URL the SDK takes as `QueueUrl`; throws for a queue the fake does not have. */
  queueUrl(name: string): string;
  /** A snapshot of the queue's messages, in send order. */
  messages(name: string): SqsFakeMessage[];
  /** Every SQS request, with its answer. */
  readonly requests: RecordedSqsRequest[];
  /** The next `count` SendMessageBatch entries fail on their own (`InternalError`, not the sender's fault). */
  failNextEntries(count: number): void;
  close(): Promise<void>;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  /** The receipt handle of the latest receive; older ones are stale. */
  receiptHandle?: string;
  deadLetterSourceQueue?: string;
}

interface Queue {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly delaySeconds: number;
  readonly redrivePolicy: SqsFakeQueueOptions["redrivePolicy"];
  messages: StoredMessage[];
}

class SqsFakeError extends Error {
  constructor(
    readonly status: number,
    /** The JSON protocol's error shape name (`__type`). */
    readonly type: string,
    message: string,
    /** The query-protocol code the SDK maps to its error class (`x-amzn-query-error`). */
    readonly queryCode: string = type,
  ) {
    super(message);
  }
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

/** Outside SQS's allowed body characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
function hasInvalidCharacter(body: string): boolean {
  for (const character of body) {
    const code = character.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    if (!allowed) return true;
  }
  return false;
}

export const md5Hex = (body: string) => createHash("md5").update(body, "utf8").digest("hex");

const invalidParameter = (message: string) =>
  new SqsFakeError(400, "InvalidParameterValue", message, "InvalidParameterValue");

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

export async function startSqsFake(options: SqsFakeOptions): Promise<SqsFake> {
  const now = options.now ?? Date.now;
  const accountId = options.accountId ?? "000000000000";
  const region = options.region ?? "us-east-1";
  const maxMessageBytes = options.maxMessageBytes ?? 262_144;
  const queues = new Map<string, Queue>();
  for (const queue of options.queues) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(queue.name)) throw new TypeError(`invalid queue name ${queue.name}`);
    if (queues.has(queue.name)) throw new TypeError(`queue ${queue.name} is defined twice`);
    queues.set(queue.name, {
      name: queue.name,
      visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds ?? 30,
      delaySeconds: queue.delaySeconds ?? 0,
      redrivePolicy: queue.redrivePolicy,
      messages: [],
    });
  }
  for (const queue of queues.values()) {
    const policy = queue.redrivePolicy;
    if (!policy) continue;
    if (!queues.has(policy.deadLetterQueue) || policy.deadLetterQueue === queue.name)
      throw new TypeError(
        `queue ${queue.name}: dead-letter queue ${policy.deadLetterQueue} is not another queue`,
      );
    if (
      !Number.isInteger(policy.maxReceiveCount) ||
      policy.maxReceiveCount < 1 ||
      policy.maxReceiveCount > 1000
    )
      throw new RangeError(`queue ${queue.name}: maxReceiveCount must be 1..1000`);
  }
  /** Receipt handle → where it points. */
  const handles = new Map<string, { queue: string; messageId: string }>();
  const requests: RecordedSqsRequest[] = [];
  let failingEntries = 0;
  let baseUrl = "";

  const arnOf = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const urlOf = (name: string) => `${baseUrl}/${accountId}/${name}`;
  const stateOf = (message: StoredMessage, at: number): SqsFakeMessage["state"] => {
    if (message.visibleAt <= at) return "visible";
    return message.receiveCount > 0 && message.receiptHandle ? "in-flight" : "delayed";
  };
  const view = (message: StoredMessage, at: number): SqsFakeMessage => ({
    messageId: message.messageId,
    body: message.body,
    md5OfBody: message.md5OfBody,
    sentAt: message.sentAt,
    receiveCount: message.receiveCount,
    ...(message.firstReceivedAt !== undefined ? { firstReceivedAt: message.firstReceivedAt } : {}),
    visibleAt: message.visibleAt,
    state: stateOf(message, at),
    ...(message.deadLetterSourceQueue ? { deadLetterSourceQueue: message.deadLetterSourceQueue } : {}),
  });

  /** The queue a QueueUrl names (by its last path segment, whatever the host: the SDK may rewrite it). */
  const queueOf = (input: Record<string, unknown>): Queue => {
    const queueUrl = input.QueueUrl;
    if (typeof queueUrl !== "string" || queueUrl === "")
      throw new SqsFakeError(400, "MissingParameter", "The request must contain the parameter QueueUrl.");
    const name = URL.canParse(queueUrl) ? new URL(queueUrl).pathname.split("/").pop() : undefined;
    const queue = name ? queues.get(name) : undefined;
    if (!queue)
      throw new SqsFakeError(
        400,
        "QueueDoesNotExist",
        "The specified queue does not exist.",
        "AWS.SimpleQueueService.NonExistentQueue",
      );
    return queue;
  };

  /** A body SQS would refuse, or undefined. */
  const bodyProblem = (body: unknown): string | undefined => {
    if (typeof body !== "string" || body.length === 0) return "The message body must be a non-empty string.";
    if (Buffer.byteLength(body) > maxMessageBytes)
      return `One or more parameters are invalid. Reason: Message must be shorter than ${maxMessageBytes} bytes.`;
    if (hasInvalidCharacter(body)) return "Invalid characters found in the message body.";
    return undefined;
  };

  const enqueue = (queue: Queue, body: string, delaySeconds: number): StoredMessage => {
    const at = now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      sentAt: at,
      receiveCount: 0,
      visibleAt: at + delaySeconds * 1000,
    };
    queue.messages.push(message);
    return message;
  };

  const refuseMessageAttributes = (input: Record<string, unknown>) => {
    if (input.MessageAttributes !== undefined || input.MessageSystemAttributes !== undefined)
      throw new SqsFakeError(
        400,
        "UnsupportedOperation",
        "The SQS fake does not support message attributes.",
        "AWS.SimpleQueueService.UnsupportedOperation",
      );
  };

  /** The message a receipt handle names; `latest` also requires it to be the newest handle. */
  const byHandle = (queue: Queue, input: Record<string, unknown>) => {
    const handle = input.ReceiptHandle;
    const target = typeof handle === "string" ? handles.get(handle) : undefined;
    if (typeof handle !== "string" || !target || target.queue !== queue.name)
      throw new SqsFakeError(
        404,
        "ReceiptHandleIsInvalid",
        `The input receipt handle "${String(handle)}" is not valid.`,
      );
    const message = queue.messages.find((candidate) => candidate.messageId === target.messageId);
    return { message, stale: message?.receiptHandle !== handle };
  };

  const actions: Record<string, (input: Record<string, unknown>) => { queue?: string; output: unknown }> = {
    GetQueueUrl(input) {
      const name = typeof input.QueueName === "string" ? input.QueueName : "";
      if (!queues.has(name))
        throw new SqsFakeError(
          400,
          "QueueDoesNotExist",
          "The specified queue does not exist.",
          "AWS.SimpleQueueService.NonExistentQueue",
        );
      return { queue: name, output: { QueueUrl: urlOf(name) } };
    },

    SendMessage(input) {
      const queue = queueOf(input);
      refuseMessageAttributes(input);
      const problem = bodyProblem(input.MessageBody);
      if (problem) throw new SqsFakeError(400, "InvalidMessageContents", problem);
      const delay = integerIn(input.DelaySeconds, "DelaySeconds", 0, MAX_DELAY_SECONDS, queue.delaySeconds);
      const message = enqueue(queue, input.MessageBody as string, delay);
      return {
        queue: queue.name,
        output: { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody },
      };
    },

    SendMessageBatch(input) {
      const queue = queueOf(input);
      const entries = Array.isArray(input.Entries) ? (input.Entries as Array<Record<string, unknown>>) : [];
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
        (sum, entry) =>
          sum + (typeof entry.MessageBody === "string" ? Buffer.byteLength(entry.MessageBody) : 0),
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
      const successful: unknown[] = [];
      const failed: unknown[] = [];
      for (const entry of entries) {
        const problem = bodyProblem(entry.MessageBody);
        if (problem) {
          failed.push({ Id: entry.Id, SenderFault: true, Code: "InvalidMessageContents", Message: problem });
          continue;
        }
        if (failingEntries > 0) {
          failingEntries--;
          failed.push({
            Id: entry.Id,
            SenderFault: false,
            Code: "InternalError",
            Message: "injected failure",
          });
          continue;
        }
        let delay: number;
        try {
          delay = integerIn(entry.DelaySeconds, "DelaySeconds", 0, MAX_DELAY_SECONDS, queue.delaySeconds);
        } catch (error) {
          failed.push({
            Id: entry.Id,
            SenderFault: true,
            Code: "InvalidParameterValue",
            Message: String(error),
          });
          continue;
        }
        const message = enqueue(queue, entry.MessageBody as string, delay);
        successful.push({ Id: entry.Id, MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody });
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
      const at = now();
      const received: unknown[] = [];
      for (const message of [...queue.messages]) {
        if (received.length >= max) break;
        if (message.visibleAt > at) continue;
        const policy = queue.redrivePolicy;
        if (policy && message.receiveCount >= policy.maxReceiveCount) {
          // What SQS does: a message received maxReceiveCount times moves on its next receive.
          const deadLetterQueue = queues.get(policy.deadLetterQueue);
          if (!deadLetterQueue) continue;
          queue.messages = queue.messages.filter((candidate) => candidate !== message);
          if (message.receiptHandle) handles.delete(message.receiptHandle);
          delete message.receiptHandle;
          message.deadLetterSourceQueue = queue.name;
          message.visibleAt = at;
          deadLetterQueue.messages.push(message);
          continue;
        }
        message.receiveCount++;
        message.firstReceivedAt ??= at;
        message.visibleAt = at + visibility * 1000;
        const handle = randomBytes(24).toString("base64url");
        handles.set(handle, { queue: queue.name, messageId: message.messageId });
        message.receiptHandle = handle;
        const attributes: Record<string, string> = {};
        for (const name of RECEIVE_ATTRIBUTES) {
          if (!wants(name)) continue;
          if (name === "ApproximateReceiveCount") attributes[name] = String(message.receiveCount);
          if (name === "ApproximateFirstReceiveTimestamp") attributes[name] = String(message.firstReceivedAt);
          if (name === "SentTimestamp") attributes[name] = String(message.sentAt);
          if (name === "SenderId") attributes[name] = accountId;
          if (name === "DeadLetterQueueSourceArn" && message.deadLetterSourceQueue)
            attributes[name] = arnOf(message.deadLetterSourceQueue);
        }
        received.push({
          MessageId: message.messageId,
          ReceiptHandle: handle,
          MD5OfBody: message.md5OfBody,
          Body: message.body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
        });
      }
      // SQS answers `{}` when nothing is there.
      return { queue: queue.name, output: received.length > 0 ? { Messages: received } : {} };
    },

    DeleteMessage(input) {
      const queue = queueOf(input);
      const { message, stale } = byHandle(queue, input);
      // As SQS documents: an older receipt handle succeeds but deletes nothing.
      if (message && !stale) queue.messages = queue.messages.filter((candidate) => candidate !== message);
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
      const { message, stale } = byHandle(queue, input);
      if (message && stale)
        throw invalidParameter(
          `Value ${String(input.ReceiptHandle)} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
        );
      if (!message || message.visibleAt <= now())
        throw new SqsFakeError(
          400,
          "MessageNotInflight",
          "The message referred to is not in flight.",
          "AWS.SimpleQueueService.MessageNotInflight",
        );
      message.visibleAt = now() + visibility * 1000;
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
      const at = now();
      const count = (state: SqsFakeMessage["state"]) =>
        queue.messages.filter((message) => stateOf(message, at) === state).length;
      const values: Record<(typeof QUEUE_ATTRIBUTES)[number], string | undefined> = {
        ApproximateNumberOfMessages: String(count("visible")),
        ApproximateNumberOfMessagesNotVisible: String(count("in-flight")),
        ApproximateNumberOfMessagesDelayed: String(count("delayed")),
        VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
        DelaySeconds: String(queue.delaySeconds),
        MaximumMessageSize: String(maxMessageBytes),
        QueueArn: arnOf(queue.name),
        RedrivePolicy: queue.redrivePolicy
          ? JSON.stringify({
              deadLetterTargetArn: arnOf(queue.redrivePolicy.deadLetterQueue),
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

  const app = new Hono();

  app.get("/_fake/queues", (c) => {
    const at = now();
    return c.json(
      [...queues.values()].map((queue) => ({
        name: queue.name,
        url: urlOf(queue.name),
        arn: arnOf(queue.name),
        ...(queue.redrivePolicy ? { redrivePolicy: queue.redrivePolicy } : {}),
        messages: queue.messages.map((message) => ({
          ...view(message, at),
          sentAt: new Date(message.sentAt).toISOString(),
          visibleAt: new Date(message.visibleAt).toISOString(),
        })),
      })),
    );
  });

  app.post("*", async (c) => {
    const requestId = randomUUID();
    const target = c.req.header("x-amz-target") ?? "";
    const action = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : target;
    let input: Record<string, unknown> = {};
    const answer = (
      status: number,
      body: unknown,
      recorded: { queue?: string; code?: string } = {},
      headers: Record<string, string> = {},
    ) => {
      requests.push({ action, status, input, ...recorded });
      return new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": SQS_JSON_CONTENT_TYPE, "x-amzn-RequestId": requestId, ...headers },
      });
    };
    const fail = (error: SqsFakeError) =>
      answer(
        error.status,
        { __type: `com.amazonaws.sqs#${error.type}`, message: error.message },
        { code: error.type },
        { "x-amzn-query-error": `${error.queryCode};Sender` },
      );

    try {
      if (!(c.req.header("content-type") ?? "").startsWith(SQS_JSON_CONTENT_TYPE))
        throw new SqsFakeError(
          400,
          "UnsupportedProtocol",
          `The SQS fake speaks only the AWS JSON 1.0 protocol (Content-Type: ${SQS_JSON_CONTENT_TYPE}).`,
        );
      if (!/^AWS4-HMAC-SHA256 Credential=\S+/.test(c.req.header("authorization") ?? ""))
        throw new SqsFakeError(
          403,
          "MissingAuthenticationToken",
          "Missing or invalid AWS4-HMAC-SHA256 Authorization header.",
        );
      const handlerFor = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!target.startsWith("AmazonSQS.") || !handlerFor)
        throw new SqsFakeError(
          400,
          "UnknownOperationException",
          `The SQS fake does not implement ${target || "(no X-Amz-Target)"}.`,
        );
      try {
        const parsed: unknown = JSON.parse(await c.req.text());
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
        input = parsed as Record<string, unknown>;
      } catch {
        throw new SqsFakeError(400, "SerializationException", "The request body is not a JSON object.");
      }
      const { queue, output } = handlerFor(input);
      return answer(200, output, queue ? { queue } : {});
    } catch (error) {
      if (error instanceof SqsFakeError) return fail(error);
      return fail(new SqsFakeError(500, "InternalError", `fake failure: ${String(error)}`));
    }
  });

  const served = await serveApp(app, options);
  baseUrl = served.url;
  return {
    url: served.url,
    queueUrl(name) {
      if (!queues.has(name)) throw new TypeError(`the SQS fake has no queue ${name}`);
      return urlOf(name);
    },
    messages(name) {
      const queue = queues.get(name);
      if (!queue) throw new TypeError(`the SQS fake has no queue ${name}`);
      const at = now();
      return queue.messages.map((message) => view(message, at));
    },
    requests,
    failNextEntries(count) {
      failingEntries += count;
    },
    close: () => served.close(),
  };
}
