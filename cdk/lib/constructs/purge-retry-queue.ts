/**
 * The purge-retry queue and its dead-letter queue. A message that fails `maxReceiveCount`
 * receives is moved to the DLQ (alarmed elsewhere), so nothing is retried forever and
 * nothing is dropped. Both queues refuse non-TLS requests and are encrypted at rest.
 */
import { Duration } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface PurgeRetryQueueProps {
  readonly maxReceiveCount: number;
  /** At least the consumer's timeout (CDK checks); the handler sets its own back-off per message. */
  readonly visibilityTimeout: Duration;
}

export class PurgeRetryQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** The redrive policy's: the consumer is told it too (a message does not say it is on its last receive). */
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: PurgeRetryQueueProps) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount;

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS keeps a message: time to read and redrive it after the alarm.
      retentionPeriod: Duration.days(14),
    });

    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
