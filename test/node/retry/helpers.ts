/** Shared by the retry tests: the real SQS client pointed at the fake, and applied booking events. */
import { randomUUID } from "node:crypto";
import { type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { MarketplaceEvent } from "../../../core/events";
import { createKeyspace } from "../../../core/keys";
import type { ApplyResult } from "../../../lambdas/events/apply";
import { planEvent } from "../../../lambdas/events/effects";
import type { SqsEvent } from "../../../lambdas/retry/handler";
import type { SqsFake, SqsFakeQueueOptions } from "../../../local/sqs-fake";
import { MarketplaceStore } from "../../../origin/store";

export const RETRY_QUEUE = "purge-retry";
export const RETRY_DLQ = "purge-retry-dlq";

/** The local stack's queues: maxReceiveCount 5, then the DLQ. */
export const RETRY_QUEUES: readonly SqsFakeQueueOptions[] = [
  { name: RETRY_QUEUE, redrivePolicy: { deadLetterQueue: RETRY_DLQ, maxReceiveCount: 5 } },
  { name: RETRY_DLQ },
];

export function sqsClient(fake: SqsFake): SQSClient {
  return new SQSClient({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
  });
}

export const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** A logger that keeps every line, by level. */
export function recordingLogger() {
  const lines: Array<{ level: "info" | "warn" | "error"; text: string }> = [];
  const at =
    (level: "info" | "warn" | "error") =>
    (...args: unknown[]) =>
      lines.push({ level, text: args.map(String).join(" ") });
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

/** Receives a batch the way the Lambda event source would hand it over. */
export async function receiveEvent(sqs: SQSClient, queueUrl: string, max = 10): Promise<SqsEvent> {
  const response = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    }),
  );
  return {
    Records: (response.Messages ?? []).map((message: Message) => ({
      messageId: message.MessageId ?? "",
      receiptHandle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: { ...message.Attributes },
    })),
  };
}

/** `count` applied booking.created events that still owe their purges. */
export function bookings(count: number, prefix = "retry"): ApplyResult[] {
  const keys = createKeyspace(prefix);
  const store = new MarketplaceStore();
  return store
    .listGpus({ status: "available" })
    .slice(0, count)
    .map((free) => {
      const { booking, gpu } = store.createBooking({ gpuId: free.gpuId, userId: "user-1" });
      const event = {
        id: `evt-${randomUUID()}`,
        type: "booking.created",
        occurredAt: new Date().toISOString(),
        version: gpu.version,
        data: { booking, gpu },
      } as MarketplaceEvent;
      return { event, plan: planEvent(event, keys, 0), status: "applied", purged: false, logId: "1-0" };
    });
}
