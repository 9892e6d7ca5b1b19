import { type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SqsFakeQueueOptions } from "../../../dev/fakes/sqs";
import type { SqsEvent } from "../../../lambdas/retry/handler";

export const RETRY_QUEUE = "purge-retry";
export const RETRY_DLQ = "purge-retry-dlq";

/** The local stack's queues: maxReceiveCount 5, then the DLQ. */
export const RETRY_QUEUES: readonly SqsFakeQueueOptions[] = [
  { name: RETRY_QUEUE, redrivePolicy: { deadLetterQueue: RETRY_DLQ, maxReceiveCount: 5 } },
  { name: RETRY_DLQ },
];

export { SILENT_LOGGER as silent } from "../../../lambdas/shared/logger";
export { sqsClient } from "../../support/sqs-client";
export { recordingLogger, recordingMetrics } from "../shared/recording";

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

export { appliedBookings as bookings } from "../../support/applied-events";
