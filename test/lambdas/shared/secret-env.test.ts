import type { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { resolveSecretEnv, SecretResolutionError } from "../../../lambdas/shared/secret-env";

/** A Secrets Manager stand-in for the decision logic: which secrets are read, and what fails. */
function secretsClient(values: Record<string, string | undefined>) {
  const asked: string[] = [];
  return {
    asked,
    send: async (command: unknown) => {
      const id = (command as GetSecretValueCommand).input.SecretId ?? "";
      asked.push(id);
      if (!(id in values)) throw new Error("ResourceNotFoundException");
      return { SecretString: values[id] };
    },
  };
}

describe("resolveSecretEnv", () => {
  it("fills each secret setting from its *_SECRET_ARN and leaves the rest as they are", async () => {
    const client = secretsClient({ "arn:webhook": "whsec_abc,whsec_def\n", "arn:upstash": "token-1" });
    const env = await resolveSecretEnv(
      {
        WEBHOOK_SECRETS_SECRET_ARN: "arn:webhook",
        UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: "arn:upstash",
        OTHER: "x",
      },
      client as never,
    );
    expect(env.WEBHOOK_SECRETS).toBe("whsec_abc,whsec_def");
    expect(env.UPSTASH_REDIS_REST_TOKEN).toBe("token-1");
    expect(env.CLOUDFLARE_API_TOKEN).toBeUndefined();
    expect(env.OTHER).toBe("x");
    expect(client.asked.sort()).toEqual(["arn:upstash", "arn:webhook"]);
  });

  it("does not read a secret whose value is already set (local stack, tests)", async () => {
    const client = secretsClient({});
    const env = await resolveSecretEnv(
      { WEBHOOK_SECRETS: "whsec_local", WEBHOOK_SECRETS_SECRET_ARN: "arn:x" },
      client as never,
    );
    expect(env.WEBHOOK_SECRETS).toBe("whsec_local");
    expect(client.asked).toEqual([]);
  });

  it("a secret it cannot read fails with the setting and the ARN named, never a value", async () => {
    const client = secretsClient({ "arn:empty": undefined });
    const failure = resolveSecretEnv({ CLOUDFLARE_API_TOKEN_SECRET_ARN: "arn:missing" }, client as never);
    await expect(failure).rejects.toThrow(SecretResolutionError);
    await expect(failure).rejects.toThrow(/CLOUDFLARE_API_TOKEN from arn:missing: ResourceNotFoundException/);
    await expect(
      resolveSecretEnv({ CLOUDFLARE_API_TOKEN_SECRET_ARN: "arn:empty" }, client as never),
    ).rejects.toThrow(/has no string value/);
  });
});
