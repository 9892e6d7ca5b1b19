/**
 * The fake's queues as SQS keeps them: delivery delays, visibility timeouts, receive
 * counts, receipt handles (only the latest one of a message acts), and the redrive
 * policy moving a message to its dead-letter queue. Time comes from `now`, so tests move
 * a clock instead of sleeping. Errors are SQS's own (SqsFakeError); the wire protocol
 * around this lives in actions.ts and app.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { md5Hex } from "./message-body";
import { invalidParameter, SqsFakeError } from "./sqs-error";

export interface SqsFakeQueueOptions {
  readonly name: string;
  /** The queue's default visibility timeout, in seconds (default 30). */
  readonly visibilityTimeoutSeconds?: number;
  /** The queue's default delivery delay, in seconds (default 0). */
  readonly delaySeconds?: number;
  /** Move a message to `deadLetterQueue` (another queue of this fake) after `maxReceiveCount` receives. */
  readonly redrivePolicy?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
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

export type SqsMessageState = SqsFakeMessage["state"];

export interface StoredMessage {
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

export interface SqsQueue {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly delaySeconds: number;
  readonly redrivePolicy: SqsFakeQueueOptions["redrivePolicy"];
  messages: StoredMessage[];
}

/** A message handed out by a receive, with the receipt handle that now acts on it. */
export interface ReceivedMessage {
  readonly message: StoredMessage;
  readonly receiptHandle: string;
}

function queuesFrom(options: readonly SqsFakeQueueOptions[]): Map<string, SqsQueue> {
  const queues = new Map<string, SqsQueue>();
  for (const queue of options) {
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
  // Checked once every queue is known: a policy may name a queue defined after it.
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
  return queues;
}

export class SqsQueues {
  readonly #queues: Map<string, SqsQueue>;
  /** Receipt handle → the message it was handed out for. */
  readonly #handles = new Map<string, { queue: string; messageId: string }>();

  constructor(
    options: readonly SqsFakeQueueOptions[],
    readonly now: () => number,
  ) {
    this.#queues = queuesFrom(options);
  }

  get(name: string): SqsQueue | undefined {
    return this.#queues.get(name);
  }

  /** In definition order. */
  all(): SqsQueue[] {
    return [...this.#queues.values()];
  }

  stateOf(message: StoredMessage, at: number): SqsMessageState {
    if (message.visibleAt <= at) return "visible";
    return message.receiveCount > 0 && message.receiptHandle ? "in-flight" : "delayed";
  }

  view(message: StoredMessage, at: number): SqsFakeMessage {
    return {
      messageId: message.messageId,
      body: message.body,
      md5OfBody: message.md5OfBody,
      sentAt: message.sentAt,
      receiveCount: message.receiveCount,
      ...(message.firstReceivedAt !== undefined ? { firstReceivedAt: message.firstReceivedAt } : {}),
      visibleAt: message.visibleAt,
      state: this.stateOf(message, at),
      ...(message.deadLetterSourceQueue ? { deadLetterSourceQueue: message.deadLetterSourceQueue } : {}),
    };
  }

  /** How many of the queue's messages are in each state, at one instant. */
  counts(queue: SqsQueue): Record<SqsMessageState, number> {
    const at = this.now();
    const counts = { visible: 0, delayed: 0, "in-flight": 0 };
    for (const message of queue.messages) counts[this.stateOf(message, at)]++;
    return counts;
  }

  send(queue: SqsQueue, body: string, delaySeconds: number): StoredMessage {
    const at = this.now();
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
  }

  /** Up to `max` visible messages, in send order, hidden for `visibilitySeconds` each. */
  receive(queue: SqsQueue, max: number, visibilitySeconds: number): ReceivedMessage[] {
    const at = this.now();
    const received: ReceivedMessage[] = [];
    for (const message of [...queue.messages]) {
      if (received.length >= max) break;
      if (message.visibleAt > at) continue;
      const policy = queue.redrivePolicy;
      if (policy && message.receiveCount >= policy.maxReceiveCount) {
        // What SQS does: a message received maxReceiveCount times moves on its next receive.
        const deadLetterQueue = this.#queues.get(policy.deadLetterQueue);
        if (!deadLetterQueue) continue;
        queue.messages = queue.messages.filter((candidate) => candidate !== message);
        if (message.receiptHandle) this.#handles.delete(message.receiptHandle);
        delete message.receiptHandle;
        message.deadLetterSourceQueue = queue.name;
        message.visibleAt = at;
        deadLetterQueue.messages.push(message);
        continue;
      }
      message.receiveCount++;
      message.firstReceivedAt ??= at;
      message.visibleAt = at + visibilitySeconds * 1000;
      const receiptHandle = randomBytes(24).toString("base64url");
      this.#handles.set(receiptHandle, { queue: queue.name, messageId: message.messageId });
      message.receiptHandle = receiptHandle;
      received.push({ message, receiptHandle });
    }
    return received;
  }

  delete(queue: SqsQueue, receiptHandle: unknown): void {
    const { message, stale } = this.#byHandle(queue, receiptHandle);
    // As SQS documents: an older receipt handle succeeds but deletes nothing.
    if (message && !stale) queue.messages = queue.messages.filter((candidate) => candidate !== message);
  }

  changeVisibility(queue: SqsQueue, receiptHandle: unknown, visibilitySeconds: number): void {
    const { message, stale } = this.#byHandle(queue, receiptHandle);
    if (message && stale)
      throw invalidParameter(
        `Value ${String(receiptHandle)} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
      );
    const at = this.now();
    if (!message || message.visibleAt <= at)
      throw new SqsFakeError(
        400,
        "MessageNotInflight",
        "The message referred to is not in flight.",
        "AWS.SimpleQueueService.MessageNotInflight",
      );
    message.visibleAt = at + visibilitySeconds * 1000;
  }

  /** The message a receipt handle names, and whether a later receive has replaced that handle. */
  #byHandle(queue: SqsQueue, receiptHandle: unknown) {
    const target = typeof receiptHandle === "string" ? this.#handles.get(receiptHandle) : undefined;
    if (typeof receiptHandle !== "string" || !target || target.queue !== queue.name)
      throw new SqsFakeError(
        404,
        "ReceiptHandleIsInvalid",
        `The input receipt handle "${String(receiptHandle)}" is not valid.`,
      );
    const message = queue.messages.find((candidate) => candidate.messageId === target.messageId);
    return { message, stale: message?.receiptHandle !== receiptHandle };
  }
}
