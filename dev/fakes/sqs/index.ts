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
 *
 * By role: queue-model.ts (visibility, delays, receive counts, redrive), actions.ts (the
 * actions' inputs, limits and outputs), app.ts (the HTTP envelope, errors, inspection
 * route), start-sqs-fake.ts (wiring and serving).
 */
export { type RecordedSqsRequest, SQS_JSON_CONTENT_TYPE } from "./app";
export { md5Hex } from "./message-body";
export type { SqsFakeMessage, SqsFakeQueueOptions } from "./queue-model";
export { type SqsFake, type SqsFakeOptions, startSqsFake } from "./start-sqs-fake";
