/**
 * The alarms an operator must see: a purge that ended in the dead-letter queue, Lambda errors
 * and throttles, and a retry queue that is not draining. All notify one SNS topic (with an
 * email subscription when `alarmEmail` is set).
 */
import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface EdgeCacheAlarmsProps {
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly retryQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly alarmEmail?: string;
  /** Oldest retry message age that alarms (default 30 min: well past the back-off of 5 receives). */
  readonly maxRetryAge?: Duration;
}

export class EdgeCacheAlarms extends Construct {
  readonly topic: Topic;
  readonly deadLetterAlarm: Alarm;
  readonly retryAgeAlarm: Alarm;
  readonly errorAlarms: Readonly<Record<string, Alarm>>;
  readonly throttleAlarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: EdgeCacheAlarmsProps) {
    super(scope, id);

    this.topic = new Topic(this, "Topic", { displayName: "Edge cache alarms", enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const above = (name: string, metric: IMetric, threshold: number, description: string) => {
      const alarm = new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    };

    this.deadLetterAlarm = above(
      "DeadLetterMessages",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      0,
      "A purge failed every retry and is in the dead-letter queue: read it, fix the cause, redrive it.",
    );
    const maxAge = props.maxRetryAge ?? Duration.minutes(30);
    this.retryAgeAlarm = above(
      "RetryQueueAge",
      props.retryQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      maxAge.toSeconds(),
      `A purge has waited more than ${maxAge.toMinutes()} min in the retry queue: the retry Lambda is failing or not consuming.`,
    );

    const errors: Record<string, Alarm> = {};
    const throttles: Record<string, Alarm> = {};
    for (const [name, fn] of Object.entries(props.functions)) {
      errors[name] = above(
        `${name}Errors`,
        fn.metricErrors({ period: Duration.minutes(1), statistic: "Sum" }),
        0,
        `The ${name} Lambda failed invocations.`,
      );
      throttles[name] = above(
        `${name}Throttles`,
        fn.metricThrottles({ period: Duration.minutes(1), statistic: "Sum" }),
        0,
        `The ${name} Lambda was throttled (reserved concurrency or account limit).`,
      );
    }
    this.errorAlarms = errors;
    this.throttleAlarms = throttles;
  }
}
