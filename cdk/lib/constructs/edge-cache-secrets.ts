/**
 * The app's secrets. CDK creates them with placeholder random values; an operator puts the
 * real values in after the first deploy (`aws secretsmanager put-secret-value`). Lambdas get
 * the ARNs (never the values) and read them at cold start.
 */
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

export interface EdgeCacheSecretsProps {
  /** Whether the Lambdas purge Workers Cache (the stack's `workersCachePurgeUrl`): its secret is made only then. */
  readonly workersCachePurge: boolean;
}

export class EdgeCacheSecrets extends Construct {
  /** The Standard Webhooks signing secret(s): `whsec_…`, or two separated by a comma while rotating. */
  readonly webhookSecrets: Secret;
  /** The Upstash Redis REST token. */
  readonly upstashRedisRestToken: Secret;
  /** A Cloudflare API token with the Cache Purge permission. */
  readonly cloudflareApiToken: Secret;
  /**
   * The Worker's purge endpoint secret (its PURGE_WEBHOOK_SECRETS, `whsec_…`), which signs
   * Workers Cache purges; undefined without `workersCachePurge`.
   */
  readonly workersCachePurgeSecret: Secret | undefined;

  constructor(scope: Construct, id: string, props: EdgeCacheSecretsProps) {
    super(scope, id);
    const make = (name: string, description: string) =>
      new Secret(this, name, { description, removalPolicy: RemovalPolicy.RETAIN });
    this.webhookSecrets = make("WebhookSecrets", "Standard Webhooks signing secret(s) of the booking system");
    this.upstashRedisRestToken = make("UpstashRedisRestToken", "Upstash Redis REST token");
    this.cloudflareApiToken = make("CloudflareApiToken", "Cloudflare API token (Cache Purge)");
    this.workersCachePurgeSecret = props.workersCachePurge
      ? make(
          "WorkersCachePurgeSecret",
          "The Worker's purge endpoint secret (whsec_…, its PURGE_WEBHOOK_SECRETS)",
        )
      : undefined;

    Validations.of(this).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "These are credentials issued by third parties (the booking system's webhook secret, Upstash and Cloudflare tokens, the Worker's purge secret); Secrets Manager cannot rotate them. They are rotated at the issuer and stored here by hand; the webhook secret supports two values at once for a rotation without downtime.",
    });
  }
}
