/**
 * The app as `cdk synth` and `cdk deploy` build it (cdk/lib/edge-cache-app.ts): required
 * context is really required, example values are refused outside example mode, example mode
 * makes the marked example stack, and the secrets have the stable names and outputs the
 * README's deploy commands use. No bundling: these stacks are only read, never deployed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CONTEXT_SUBJECT,
  EdgeCacheConfigError,
  EXAMPLE_CONTEXT,
  parseEdgeCacheConfig,
} from "../../cdk/lib/config";
import { edgeCacheSecretName, secretIdOf } from "../../cdk/lib/constructs/edge-cache-secrets";
import { addEdgeCacheStack, EXAMPLE_STACK_NAME, STACK_NAME } from "../../cdk/lib/edge-cache-app";
import { EXAMPLE_DESCRIPTION_PREFIX } from "../../cdk/lib/edge-cache-stack";
import { SECRET_SETTINGS } from "../../lambdas/shared/secret-env";

const root = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const deploySection = readme.slice(
  readme.indexOf("## Deploy"),
  readme.indexOf("\n## ", readme.indexOf("## Deploy") + 1),
);

/** A real deployment's context (`.internal` is never in public DNS, and no example domain). */
const DEPLOYMENT = {
  originDomain: "api.gpu-market.internal",
  upstashRedisRestUrl: "https://eu1-gpu-market.upstash.io",
  workersCachePurgeUrl: "https://edge.gpu-market.internal/_cache/purge",
};
const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

type Resources = Record<string, { Properties: Record<string, unknown> }>;

function synth(context: Record<string, unknown>) {
  const stack = addEdgeCacheStack(new App({ context: { ...NO_BUNDLING, ...context } }));
  return { stack, template: Template.fromStack(stack) };
}

function configError(context: Record<string, unknown>): EdgeCacheConfigError {
  try {
    synth(context);
  } catch (error) {
    if (error instanceof EdgeCacheConfigError) return error;
    throw error;
  }
  throw new Error("the app accepted the context");
}

/** The logical id of the secret named `name`. */
function secretWithName(template: Template, name: string): string {
  const found = Object.entries(template.findResources("AWS::SecretsManager::Secret") as Resources).find(
    ([, secret]) => secret.Properties.Name === name,
  );
  if (!found) throw new Error(`no secret named ${name}`);
  return found[0];
}

describe("the app's required context", () => {
  it("refuses a synth without the required keys: one error naming each, and how to set them", () => {
    const error = configError({});
    expect(error.problems).toEqual([
      expect.stringMatching(/^originDomain: missing/),
      expect.stringMatching(/^upstashRedisRestUrl: missing/),
    ]);
    expect(error.message).toContain(CONTEXT_SUBJECT);
    for (const how of ["-c key=value", "cdk.json", "-c example=true"]) expect(error.message).toContain(how);
  });

  it("refuses values on reserved example domains outside example mode, each named", () => {
    const error = configError({
      originDomain: "api.example.com",
      upstashRedisRestUrl: "https://db.upstash.example",
      workersCachePurgeUrl: "https://edge.example.org/_cache/purge",
      alarmEmail: "ops@example.com",
      distributionId: "E2ABCDEFGHIJKL",
      distributionDomainName: "d111111abcdef8.cloudfront.test",
    });
    expect(error.problems.map((problem) => problem.split(":")[0])).toEqual([
      "originDomain",
      "upstashRedisRestUrl",
      "distributionDomainName",
      "workersCachePurgeUrl",
      "alarmEmail",
    ]);
    for (const problem of error.problems) expect(problem).toContain("is an example");
  });

  it("ships no value for the required keys in cdk.json, and no example domain in it", () => {
    const context = JSON.parse(readFileSync(join(root, "cdk.json"), "utf8")).context as Record<
      string,
      unknown
    >;
    expect(Object.keys(context)).not.toContain("originDomain");
    expect(Object.keys(context)).not.toContain("upstashRedisRestUrl");
    expect(JSON.stringify(context)).not.toMatch(/example/i);
    expect(() => parseEdgeCacheConfig((key) => context[key])).toThrow(
      /originDomain: missing.*upstashRedisRestUrl: missing/,
    );
  });

  it("reports a bad example flag together with everything else", () => {
    expect(configError({ example: "yes" }).problems).toEqual([
      'example: "yes" is not true or false',
      expect.stringMatching(/^originDomain: missing/),
      expect.stringMatching(/^upstashRedisRestUrl: missing/),
    ]);
  });

  it("fails `cdk synth` itself (cdk.json and the CLI) with that one error", () => {
    const out = mkdtempSync(join(tmpdir(), "cdk-synth-"));
    try {
      const result = spawnSync(
        join(root, "node_modules/.bin/cdk"),
        ["synth", "--no-notices", "--no-version-reporting", "--no-lookups", "-q", "-o", out],
        {
          cwd: root,
          encoding: "utf8",
          env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1", CDK_DISABLE_CLI_TELEMETRY: "true" },
        },
      );
      expect(result.status).not.toBe(0);
      const output = `${result.stdout}${result.stderr}`;
      expect(output).toContain("EdgeCacheConfigError: invalid CDK context");
      expect(output).toMatch(/originDomain: missing[^\n]*; upstashRedisRestUrl: missing/);
      // One message for the operator, not a stack trace.
      expect(output).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

/** A synth without bundling is quick, but the first in a process loads much of aws-cdk-lib. */
const SYNTH_TIMEOUT = { timeout: 60_000 };

describe("example mode (-c example=true)", SYNTH_TIMEOUT, () => {
  it("synthesises the marked example stack from example values", () => {
    const { stack, template } = synth({ example: "true" });
    expect(stack.stackName).toBe(EXAMPLE_STACK_NAME);
    expect(String(template.toJSON().Description).startsWith(EXAMPLE_DESCRIPTION_PREFIX)).toBe(true);
    template.hasOutput("Example", { Value: "true" });
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        Origins: [Match.objectLike({ DomainName: EXAMPLE_CONTEXT.originDomain })],
      }),
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({ UPSTASH_REDIS_REST_URL: EXAMPLE_CONTEXT.upstashRedisRestUrl }),
      },
    });
    // Never the real stack's secrets.
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      Name: `${EXAMPLE_STACK_NAME}/WEBHOOK_SECRETS`,
    });
  });

  it("takes cdk.json's boolean too, and keeps values that are given", () => {
    const { stack, template } = synth({ example: true, originDomain: "api.example.net" });
    expect(stack.stackName).toBe(EXAMPLE_STACK_NAME);
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        Origins: [Match.objectLike({ DomainName: "api.example.net" })],
      }),
    });
  });

  it("is off for example=false: a deployment's stack, unmarked", () => {
    const { stack, template } = synth({ ...DEPLOYMENT, example: "false" });
    expect(stack.stackName).toBe(STACK_NAME);
    expect(String(template.toJSON().Description)).not.toContain("EXAMPLE");
    expect(Object.keys(template.findOutputs("Example"))).toEqual([]);
  });
});

describe("the secrets", SYNTH_TIMEOUT, () => {
  let stack: ReturnType<typeof synth>["stack"];
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = synth(DEPLOYMENT));
  }, SYNTH_TIMEOUT.timeout);

  it("are named <stackName>/<SETTING>, every one the Lambdas read", () => {
    expect(stack.stackName).toBe(STACK_NAME);
    const names = Object.values(template.findResources("AWS::SecretsManager::Secret") as Resources).map(
      (secret) => secret.Properties.Name,
    );
    expect(names.sort()).toEqual(SECRET_SETTINGS.map((setting) => `${STACK_NAME}/${setting}`).sort());
    expect(edgeCacheSecretName(STACK_NAME, "WEBHOOK_SECRETS")).toBe("GpuEdgeCache/WEBHOOK_SECRETS");
  });

  it("are outputs: <Id>SecretArn the very secret the Lambdas get, <Id>SecretName its name", () => {
    const webhookEnv = Object.values(template.findResources("AWS::Lambda::Function") as Resources)
      .map((fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables)
      .find((env) => "WEBHOOK_SECRETS_SECRET_ARN" in env);
    for (const setting of SECRET_SETTINGS) {
      const name = `${STACK_NAME}/${setting}`;
      const id = secretWithName(template, name);
      template.hasOutput(`${secretIdOf(setting)}SecretArn`, { Value: { Ref: id } });
      template.hasOutput(`${secretIdOf(setting)}SecretName`, { Value: name });
      expect(webhookEnv?.[`${setting}_SECRET_ARN`]).toEqual({ Ref: id });
    }
    expect(Object.keys(template.findOutputs("WebhookSecretsSecretArn"))).toEqual(["WebhookSecretsSecretArn"]);
  });

  it("are what the README's commands name: each put-secret-value id, each output it queries", () => {
    const ids = [...deploySection.matchAll(/put-secret-value --secret-id (\S+)/g)].map((match) => match[1]);
    expect(ids.sort()).toEqual(SECRET_SETTINGS.map((setting) => `${STACK_NAME}/${setting}`).sort());
    const queried = [...deploySection.matchAll(/OutputKey=='(\w+)'/g)].map((match) => match[1] as string);
    expect(queried.length).toBeGreaterThan(0);
    const outputs = Object.keys(template.findOutputs("*"));
    for (const key of queried) expect(outputs).toContain(key);
    expect(deploySection).toContain(`--stack-name ${STACK_NAME}`);
  });
});
