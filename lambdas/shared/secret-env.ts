/**
 * Secrets for the Lambdas come from Secrets Manager, never from plain environment
 * variables: the stack sets `<NAME>_SECRET_ARN`, and this fills `<NAME>` from the
 * secret's string value once per cold start (the result is cached in module scope by
 * the caller). A name whose value is already set (the local stack, tests) is left alone.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** The settings that are secrets; each may be given as `<NAME>_SECRET_ARN`. */
export const SECRET_SETTINGS = [
  "WEBHOOK_SECRETS",
  "UPSTASH_REDIS_REST_TOKEN",
  "CLOUDFLARE_API_TOKEN",
  // The Worker's purge endpoint secret (its PURGE_WEBHOOK_SECRETS), which signs Workers Cache purges.
  "WORKERS_CACHE_PURGE_SECRET",
] as const;

export class SecretResolutionError extends Error {
  override readonly name = "SecretResolutionError";
}

export async function resolveSecretEnv(
  env: Readonly<Record<string, string | undefined>>,
  client: Pick<SecretsManagerClient, "send"> = new SecretsManagerClient({}),
): Promise<Record<string, string | undefined>> {
  const resolved: Record<string, string | undefined> = { ...env };
  const pending = SECRET_SETTINGS.filter((name) => !env[name] && env[`${name}_SECRET_ARN`]).map(
    async (name) => {
      const arn = env[`${name}_SECRET_ARN`] as string;
      try {
        const secret = await client.send(new GetSecretValueCommand({ SecretId: arn }));
        if (!secret.SecretString) throw new Error("the secret has no string value");
        resolved[name] = secret.SecretString.trim();
      } catch (error) {
        // The ARN, never the value, goes into the message.
        throw new SecretResolutionError(`cannot read ${name} from ${arn}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  );
  await Promise.all(pending);
  return resolved;
}
