/** An SQS error answer: the fake throws it and the wire layer (app.ts) turns it into SQS's error shape. */
export class SqsFakeError extends Error {
  constructor(
    readonly status: number,
    /** The JSON protocol's error shape name (`__type`). */
    readonly type: string,
    message: string,
    /** The query-protocol code the SDK maps to its error class (`x-amzn-query-error`). */
    readonly queryCode: string = type,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const invalidParameter = (message: string) =>
  new SqsFakeError(400, "InvalidParameterValue", message, "InvalidParameterValue");

export const queueDoesNotExist = () =>
  new SqsFakeError(
    400,
    "QueueDoesNotExist",
    "The specified queue does not exist.",
    "AWS.SimpleQueueService.NonExistentQueue",
  );
