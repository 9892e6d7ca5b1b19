/**
 * The AWS side of the edge cache: the signed-webhook Lambda (Function URL), the purge-retry
 * queue with its DLQ and consumer Lambda, the secrets they read, the CloudFront distribution
 * in front of the origin (or an existing one), and the alarms.
 *
 * The Lambdas receive secret ARNs (`*_SECRET_ARN`), never secret values, and may read exactly
 * those secrets. CloudFront invalidation is allowed on this one distribution only. The
 * dashboard (`DashboardName` output) graphs the Lambdas' metrics beside the alarms'. Each secret's
 * ARN and name are outputs (`WebhookSecretsSecretArn`, `WebhookSecretsSecretName`, …) for the
 * operator who puts the values in. A stack from example context says so in its description
 * and an `Example` output.
 */
import { Aws, CfnOutput, Duration, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { type FunctionUrl, FunctionUrlAuthType } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { Construct } from "constructs";
import { WORKERS_CACHE_DEFAULTS } from "../../lambdas/purge/workers-cache/limits";
import type { EdgeCacheConfig } from "./config";
import { EdgeCacheAlarms } from "./constructs/edge-cache-alarms";
import { EdgeCacheDashboard } from "./constructs/edge-cache-dashboard";
import { EdgeCacheSecrets } from "./constructs/edge-cache-secrets";
import { EdgeFunction } from "./constructs/edge-function";
import { OriginDistribution } from "./constructs/origin-distribution";
import { PurgeRetryQueue } from "./constructs/purge-retry-queue";

export interface EdgeCacheStackProps extends StackProps {
  readonly config: EdgeCacheConfig;
}

/** Begins the description of a stack synthesised in example mode (`-c example=true`). */
export const EXAMPLE_DESCRIPTION_PREFIX = "EXAMPLE (-c example=true, example values; do not deploy):";

/** The retry Lambda's timeout; the queue's visibility timeout is six times it (AWS's advice). */
const RETRY_FUNCTION_TIMEOUT = Duration.seconds(60);
/**
 * SQS collects messages this long before invoking, so the purges of a burst arrive as a few
 * batches: the Workers Cache purge window (one refill of its 5-a-minute bucket, so a steady
 * stream costs about a call a window), which also coalesces CloudFront's invalidations.
 */
export const RETRY_BATCHING_WINDOW = Duration.seconds(Math.ceil(WORKERS_CACHE_DEFAULTS.windowMs / 1000));
export const RETRY_BATCH_SIZE = 100;

export class EdgeCacheStack extends Stack {
  readonly secrets: EdgeCacheSecrets;
  readonly retryQueue: PurgeRetryQueue;
  readonly distribution: OriginDistribution;
  readonly webhook: EdgeFunction;
  readonly webhookUrl: FunctionUrl;
  readonly retry: EdgeFunction;
  readonly alarms: EdgeCacheAlarms;
  readonly dashboard: EdgeCacheDashboard;

  constructor(scope: Construct, id: string, props: EdgeCacheStackProps) {
    super(scope, id, {
      ...props,
      ...(props.config.example
        ? { description: `${EXAMPLE_DESCRIPTION_PREFIX} ${props.description ?? "edge cache"}` }
        : {}),
    });
    const { config } = props;

    const workersCachePurgeUrl = config.workersCachePurgeUrl;
    this.secrets = new EdgeCacheSecrets(this, "Secrets", {
      workersCachePurge: workersCachePurgeUrl !== undefined,
    });
    this.retryQueue = new PurgeRetryQueue(this, "PurgeRetry", {
      maxReceiveCount: config.retryMaxReceiveCount,
      visibilityTimeout: Duration.seconds(RETRY_FUNCTION_TIMEOUT.toSeconds() * 6),
    });
    this.distribution = new OriginDistribution(this, "Origin", {
      originDomain: config.originDomain,
      ...(config.distributionId !== undefined ? { distributionId: config.distributionId } : {}),
      ...(config.distributionDomainName !== undefined
        ? { distributionDomainName: config.distributionDomainName }
        : {}),
    });

    const redisEnvironment: Record<string, string> = {
      UPSTASH_REDIS_REST_URL: config.upstashRedisRestUrl,
      UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: this.secrets.upstashRedisRestToken.secretArn,
      KEY_PREFIX: config.keyPrefix,
    };
    const workersCacheSecret = this.secrets.workersCachePurgeSecret;
    const cdnEnvironment: Record<string, string> = {
      CLOUDFRONT_DISTRIBUTION_ID: this.distribution.distribution.distributionId,
      CLOUDFLARE_API_TOKEN_SECRET_ARN: this.secrets.cloudflareApiToken.secretArn,
      PURGE_RETRY_QUEUE_URL: this.retryQueue.queue.queueUrl,
      ...(config.cloudflareZoneId ? { CLOUDFLARE_ZONE_ID: config.cloudflareZoneId } : {}),
      // Both Lambdas purge Workers Cache (the event one only without a queue), from one bucket in Redis.
      ...(workersCachePurgeUrl && workersCacheSecret
        ? {
            WORKERS_CACHE_PURGE_URL: workersCachePurgeUrl,
            WORKERS_CACHE_PURGE_SECRET_SECRET_ARN: workersCacheSecret.secretArn,
            WORKERS_CACHE_PURGE_WINDOW_MS: String(RETRY_BATCHING_WINDOW.toMilliseconds()),
          }
        : {}),
    };

    this.webhook = new EdgeFunction(this, "Webhook", {
      entry: "lambdas/events/handler.ts",
      description: "Signed booking-system webhooks: Redis write-through, purges, retry queue",
      timeout: Duration.seconds(30),
      ...(config.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: config.reservedConcurrency }
        : {}),
      environment: {
        ...redisEnvironment,
        WEBHOOK_SECRETS_SECRET_ARN: this.secrets.webhookSecrets.secretArn,
        // The Worker's overrides too: its write-through TTLs must match the Worker's fills.
        ...(config.cachePolicies !== undefined ? { CACHE_POLICIES: config.cachePolicies } : {}),
        ...cdnEnvironment,
      },
    });
    // The Standard Webhooks signature is the authentication; IAM auth would lock out the booking system.
    this.webhookUrl = this.webhook.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    this.secrets.webhookSecrets.grantRead(this.webhook.function);
    this.secrets.upstashRedisRestToken.grantRead(this.webhook.function);
    this.secrets.cloudflareApiToken.grantRead(this.webhook.function);
    workersCacheSecret?.grantRead(this.webhook.function);
    this.retryQueue.queue.grantSendMessages(this.webhook.function);

    this.retry = new EdgeFunction(this, "Retry", {
      entry: "lambdas/retry/handler.ts",
      description: "Replays failed and deferred CDN purges from the retry queue (partial batch failures)",
      timeout: RETRY_FUNCTION_TIMEOUT,
      environment: {
        // Redis only for the Workers Cache purge bucket it shares with the webhook Lambda.
        ...(workersCacheSecret ? { ...redisEnvironment, ...cdnEnvironment } : cdnEnvironment),
        // The redrive policy's count: a failure on that receive is the message's last (counted as dead-lettered).
        PURGE_RETRY_MAX_RECEIVE_COUNT: String(this.retryQueue.maxReceiveCount),
      },
    });
    this.secrets.cloudflareApiToken.grantRead(this.retry.function);
    if (workersCacheSecret) {
      workersCacheSecret.grantRead(this.retry.function);
      this.secrets.upstashRedisRestToken.grantRead(this.retry.function);
    }
    // Consume (receive, delete, change visibility for the back-off) on the retry queue only.
    this.retryQueue.queue.grantConsumeMessages(this.retry.function);
    this.retry.function.addEventSource(
      new SqsEventSource(this.retryQueue.queue, {
        batchSize: RETRY_BATCH_SIZE,
        maxBatchingWindow: RETRY_BATCHING_WINDOW,
        reportBatchItemFailures: true,
      }),
    );
    // With the queue deployed the webhook Lambda defers every CloudFront purge to it
    // (lambdas/events/purge-dispatcher.ts), so only the retry Lambda invalidates.
    this.retry.function.addToRolePolicy(
      new PolicyStatement({
        actions: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
        resources: [this.distribution.distributionArn],
      }),
    );

    for (const fn of [this.webhook, this.retry])
      Validations.of(fn).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        reason:
          "AWSLambdaBasicExecutionRole only allows writing this function's CloudWatch Logs; it is the AWS-maintained minimum for any Lambda and grants no data access.",
      });

    this.alarms = new EdgeCacheAlarms(this, "Alarms", {
      functions: { Webhook: this.webhook.function, Retry: this.retry.function },
      retryQueue: this.retryQueue.queue,
      deadLetterQueue: this.retryQueue.deadLetterQueue,
      ...(config.alarmEmail !== undefined ? { alarmEmail: config.alarmEmail } : {}),
    });
    this.dashboard = new EdgeCacheDashboard(this, "Dashboard", {
      functions: { Webhook: this.webhook, Retry: this.retry },
      retryQueue: this.retryQueue.queue,
      alarms: this.alarms,
    });

    new CfnOutput(this, "WebhookUrl", {
      value: `${this.webhookUrl.url}v1/events`,
      description: "POST signed webhooks here",
    });
    new CfnOutput(this, "DistributionId", { value: this.distribution.distribution.distributionId });
    new CfnOutput(this, "DistributionDomainName", {
      value: this.distribution.distribution.distributionDomainName,
      description: "ORIGIN_URL for the Worker is https://<this>",
    });
    new CfnOutput(this, "RetryQueueUrl", { value: this.retryQueue.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: this.retryQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, "AlarmTopicArn", { value: this.alarms.topic.topicArn });
    const dashboardName = this.dashboard.dashboard.dashboardName;
    new CfnOutput(this, "DashboardName", {
      value: dashboardName,
      description: `CloudWatch dashboard: https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${dashboardName}`,
    });
    // At stack scope: outputs inside the Secrets construct would get hashed logical ids.
    for (const { setting, id: secretId, secretName, secret } of this.secrets.all) {
      new CfnOutput(this, `${secretId}SecretArn`, {
        value: secret.secretArn,
        description: `The ${setting} secret (the Lambdas get it as ${setting}_SECRET_ARN)`,
      });
      new CfnOutput(this, `${secretId}SecretName`, {
        value: secretName,
        description: `Put the ${setting} value: aws secretsmanager put-secret-value --secret-id ${secretName}`,
      });
    }
    if (config.example)
      new CfnOutput(this, "Example", {
        value: "true",
        description: "Synthesised from example context (-c example=true): example values, not a deployment",
      });
  }
}
