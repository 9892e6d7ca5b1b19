/**
 * The app's secrets. CDK creates them with placeholder random values; an operator puts the
 * real values in after the first deploy (`aws secretsmanager put-secret-value`). Lambdas get
 * the ARNs (never the values) and read them at cold start.
 *
 * Each has a stable name, `<stackName>/<SETTING>` (edgeCacheSecretName), the setting being
 * the one the Lambdas fill from it (lambdas/shared/secret-env.ts): the README's commands can
 * name a secret without looking up its ARN. (Kebab-case would end one in `-secret`: AWS advises
 * against a name ending in a hyphen and six characters, the form of the ARN's random suffix.)
 */
import { RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { SECRET_SETTINGS } from "../../../lambdas/shared/secret-env";

/** A secret the Lambdas read, named as its setting: `WEBHOOK_SECRETS`, … */
export type EdgeCacheSecretSetting = (typeof SECRET_SETTINGS)[number];

/** The one place a secret's name is made: `<stackName>/<SETTING>`, e.g. `GpuEdgeCache/WEBHOOK_SECRETS`. */
export function edgeCacheSecretName(stackName: string, setting: EdgeCacheSecretSetting): string {
  return `${stackName}/${setting}`;
}

/** `WEBHOOK_SECRETS` → `WebhookSecrets`: the secret's construct id and the stem of its outputs' ids. */
export function secretIdOf(setting: EdgeCacheSecretSetting): string {
  return setting
    .toLowerCase()
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}

export interface EdgeCacheSecret {
  readonly setting: EdgeCacheSecretSetting;
  /** Its construct id, `WebhookSecrets`, … */
  readonly id: string;
  /** Its Secrets Manager name (edgeCacheSecretName). */
  readonly secretName: string;
  readonly secret: Secret;
}

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
  /** Every secret made, in the order above. */
  readonly all: readonly EdgeCacheSecret[];

  constructor(scope: Construct, id: string, props: EdgeCacheSecretsProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const all: EdgeCacheSecret[] = [];
    const make = (setting: EdgeCacheSecretSetting, description: string) => {
      const secretName = edgeCacheSecretName(stackName, setting);
      const secret = new Secret(this, secretIdOf(setting), {
        secretName,
        description,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      all.push({ setting, id: secretIdOf(setting), secretName, secret });
      return secret;
    };
    this.webhookSecrets = make(
      "WEBHOOK_SECRETS",
      "Standard Webhooks signing secret(s) of the booking system",
    );
    this.upstashRedisRestToken = make("UPSTASH_REDIS_REST_TOKEN", "Upstash Redis REST token");
    this.cloudflareApiToken = make("CLOUDFLARE_API_TOKEN", "Cloudflare API token (Cache Purge)");
    this.workersCachePurgeSecret = props.workersCachePurge
      ? make(
          "WORKERS_CACHE_PURGE_SECRET",
          "The Worker's purge endpoint secret (whsec_…, its PURGE_WEBHOOK_SECRETS)",
        )
      : undefined;
    this.all = all;

    Validations.of(this).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "These are credentials issued by third parties (the booking system's webhook secret, Upstash and Cloudflare tokens, the Worker's purge secret); Secrets Manager cannot rotate them. They are rotated at the issuer and stored here by hand; the webhook secret supports two values at once for a rotation without downtime.",
    });
  }
}
