/**
 * The CDK stack: one synth (beforeAll), targeted assertions that fail on real mistakes
 * (no whole-template snapshot), and the cdk-nag AWS Solutions checks.
 */
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeCacheConfigError, parseEdgeCacheConfig } from "../../cdk/lib/config";
import { EdgeCacheStack } from "../../cdk/lib/edge-cache-stack";
import { ORIGIN_CDN_MAX_TTL_SECONDS, TAG_VERSION_TTL_SECONDS } from "../../core/tag-versions";

/** A deployment's context: `.internal` is never in public DNS, yet not an example domain the app refuses. */
const CONTEXT = {
  originDomain: "api.gpu-market.internal",
  upstashRedisRestUrl: "https://eu1-test.upstash.io",
  keyPrefix: "gpu",
  cloudflareZoneId: "0123456789abcdef0123456789abcdef",
  workersCachePurgeUrl: "https://edge.gpu-market.internal/_cache/purge",
  retryMaxReceiveCount: "7",
  reservedConcurrency: 25,
  alarmEmail: "oncall@gpu-market.internal",
  // As cdk.json holds it: an object, not text.
  cachePolicies: { gpu: { l2TtlSeconds: 600 } },
};

type Resources = Record<string, { Properties: Record<string, unknown> }>;

let stack: EdgeCacheStack;
let template: Template;
let functions: Resources;

/** The logical id of the Lambda whose description starts with `prefix`. */
function functionId(prefix: string): string {
  const found = Object.entries(functions).find(([, fn]) =>
    String(fn.Properties.Description).startsWith(prefix),
  );
  if (!found) throw new Error(`no function described as ${prefix}`);
  return found[0];
}

beforeAll(() => {
  const app = new App({ context: CONTEXT });
  stack = new EdgeCacheStack(app, "Test", {
    config: parseEdgeCacheConfig((key) => app.node.tryGetContext(key)),
  });
  template = Template.fromStack(stack);
  functions = template.findResources("AWS::Lambda::Function") as Resources;
}, 60_000);

describe("CDK context", () => {
  it("parses strings from -c and applies defaults", () => {
    const config = parseEdgeCacheConfig(
      (key) =>
        ({ originDomain: "api.gpu-market.internal", upstashRedisRestUrl: "https://x.upstash.io" })[key],
    );
    expect(config).toEqual({
      example: false,
      originDomain: "api.gpu-market.internal",
      upstashRedisRestUrl: "https://x.upstash.io",
      keyPrefix: "ec",
      retryMaxReceiveCount: 5,
    });
  });

  it("fails once, naming every bad or missing value", () => {
    const bad: Record<string, unknown> = {
      originDomain: "https://api.gpu-market.internal/",
      retryMaxReceiveCount: "0",
      reservedConcurrency: "many",
      distributionId: "E123456789AB",
      alarmEmail: "nobody",
    };
    let error: unknown;
    try {
      parseEdgeCacheConfig((key) => bad[key]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EdgeCacheConfigError);
    const message = String((error as Error).message);
    for (const key of [
      "originDomain",
      "upstashRedisRestUrl: missing",
      "retryMaxReceiveCount",
      "reservedConcurrency",
      "distributionDomainName: missing",
      "alarmEmail",
    ])
      expect(message).toContain(key);
  });

  it("checks cachePolicies as the Worker checks CACHE_POLICIES, and keeps it as JSON text", () => {
    const base = { originDomain: "api.gpu-market.internal", upstashRedisRestUrl: "https://x.upstash.io" };
    const config = parseEdgeCacheConfig(
      (key) => ({ ...base, cachePolicies: ' {"gpu": {"l2TtlSeconds": 600}} ' })[key],
    );
    expect(config.cachePolicies).toBe('{"gpu":{"l2TtlSeconds":600}}');
    let error: unknown;
    try {
      parseEdgeCacheConfig(
        (key) =>
          ({ ...base, keyPrefix: "bad prefix!", cachePolicies: { gpu: { l2TtlSeconds: -1 }, nope: {} } })[
            key
          ],
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EdgeCacheConfigError);
    expect((error as EdgeCacheConfigError).problems).toEqual([
      expect.stringMatching(/^keyPrefix: "bad prefix!" is not letters, digits/),
      "cachePolicies: gpu.l2TtlSeconds: must be a non-negative number",
      expect.stringMatching(/^cachePolicies: unknown data class 'nope'/),
    ]);
    expect(() => parseEdgeCacheConfig((key) => ({ ...base, cachePolicies: "{gpu:" })[key])).toThrow(
      /cachePolicies: not valid JSON/,
    );
  });
});

describe("EdgeCacheStack", () => {
  it("runs both Lambdas on Node 24, arm64, as bundled ESM", () => {
    expect(Object.keys(functions)).toHaveLength(2);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe("nodejs24.x");
      expect(fn.Properties.Architectures).toEqual(["arm64"]);
      expect(fn.Properties.Handler).toBe("index.handler");
    }
  });

  it("exposes the webhook Lambda through a Function URL without IAM auth, with reserved concurrency", () => {
    const webhook = functionId("Signed booking-system webhooks");
    template.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "NONE",
      TargetFunctionArn: { "Fn::GetAtt": [webhook, "Arn"] },
    });
    expect(functions[webhook]?.Properties.ReservedConcurrentExecutions).toBe(25);
  });

  it("gives each Lambda a log group with a retention period", () => {
    const groups = template.findResources("AWS::Logs::LogGroup") as Resources;
    expect(Object.keys(groups)).toHaveLength(2);
    for (const group of Object.values(groups)) expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
    for (const fn of Object.values(functions))
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogGroup: { Ref: expect.any(String) } });
  });

  it("redrives the retry queue to the DLQ after the configured receives, both TLS-only", () => {
    const dlq = stack.getLogicalId(stack.retryQueue.deadLetterQueue.node.defaultChild as never);
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlq, "Arn"] }, maxReceiveCount: 7 },
    });
    const policies = template.findResources("AWS::SQS::QueuePolicy") as Resources;
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies))
      expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
  });

  it("feeds the retry Lambda with partial batch responses, batches of 100 and a batching window", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: functionId("Replays failed") },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 100,
      // The Workers Cache purge window: one refill of its bucket.
      MaximumBatchingWindowInSeconds: 12,
    });
  });

  it("allows CloudFront invalidation on this distribution's ARN only, never *", () => {
    const distribution = stack.getLogicalId(stack.distribution.distribution.node.defaultChild as never);
    const statements = Object.values(template.findResources("AWS::IAM::Policy") as Resources).flatMap(
      (policy) =>
        (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
    );
    const invalidation = statements.filter((statement) =>
      JSON.stringify(statement.Action).includes("cloudfront:"),
    );
    expect(invalidation).toHaveLength(1);
    expect(invalidation[0]?.Action).toEqual(["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"]);
    const resource = JSON.stringify(invalidation[0]?.Resource);
    expect(resource).not.toBe('"*"');
    expect(resource).toContain(":distribution/");
    expect(resource).toContain(`{"Ref":"${distribution}"}`);
    // No statement anywhere grants every resource.
    for (const statement of statements) expect(statement.Resource).not.toBe("*");
  });

  it("passes cachePolicies to the webhook Lambda as CACHE_POLICIES: its TTLs then match the Worker's", () => {
    const variables = (prefix: string) => {
      const fn = functions[functionId(prefix)];
      if (!fn) throw new Error(`no function described as ${prefix}`);
      return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    };
    expect(variables("Signed booking-system webhooks").CACHE_POLICIES).toBe('{"gpu":{"l2TtlSeconds":600}}');
    // The retry Lambda writes no records.
    expect(variables("Replays failed")).not.toHaveProperty("CACHE_POLICIES");
  });

  it("passes secret ARNs, never secret values, and grants read on exactly those secrets", () => {
    const secretIds = Object.keys(template.findResources("AWS::SecretsManager::Secret"));
    expect(secretIds).toHaveLength(4);
    const webhook = functions[functionId("Signed booking-system webhooks")];
    if (!webhook) throw new Error("no webhook function");
    const env = (webhook.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const name of [
      "WEBHOOK_SECRETS_SECRET_ARN",
      "UPSTASH_REDIS_REST_TOKEN_SECRET_ARN",
      "CLOUDFLARE_API_TOKEN_SECRET_ARN",
    ])
      expect(secretIds).toContainEqual((env[name] as { Ref: string }).Ref);
    for (const name of ["WEBHOOK_SECRETS", "UPSTASH_REDIS_REST_TOKEN", "CLOUDFLARE_API_TOKEN"])
      expect(env).not.toHaveProperty(name);
    expect(env).toMatchObject({
      UPSTASH_REDIS_REST_URL: "https://eu1-test.upstash.io",
      KEY_PREFIX: "gpu",
      CLOUDFLARE_ZONE_ID: "0123456789abcdef0123456789abcdef",
      PURGE_RETRY_QUEUE_URL: { Ref: expect.any(String) },
      CLOUDFRONT_DISTRIBUTION_ID: { Ref: expect.any(String) },
    });
    // Nothing resolved a secret into the template.
    expect(JSON.stringify(template.toJSON())).not.toContain("{{resolve:secretsmanager");

    const secretReads = Object.values(template.findResources("AWS::IAM::Policy") as Resources)
      .flatMap(
        (p) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
      )
      .filter((s) => JSON.stringify(s.Action).includes("secretsmanager:GetSecretValue"));
    expect(secretReads.length).toBeGreaterThan(0);
    for (const statement of secretReads)
      expect(secretIds).toContainEqual((statement.Resource as { Ref: string }).Ref);
  });

  it("gives both Lambdas the Worker's purge endpoint, its secret's ARN and the window; the retry Lambda Redis for the shared bucket", () => {
    const variables = (prefix: string) => {
      const fn = functions[functionId(prefix)];
      if (!fn) throw new Error(`no function described as ${prefix}`);
      return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    };
    const secret = stack.getLogicalId(stack.secrets.workersCachePurgeSecret?.node.defaultChild as never);
    const token = stack.getLogicalId(stack.secrets.upstashRedisRestToken.node.defaultChild as never);
    for (const prefix of ["Signed booking-system webhooks", "Replays failed"]) {
      const env = variables(prefix);
      expect(env).toMatchObject({
        WORKERS_CACHE_PURGE_URL: "https://edge.gpu-market.internal/_cache/purge",
        WORKERS_CACHE_PURGE_SECRET_SECRET_ARN: { Ref: secret },
        WORKERS_CACHE_PURGE_WINDOW_MS: "12000",
        UPSTASH_REDIS_REST_URL: "https://eu1-test.upstash.io",
        UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: { Ref: token },
        KEY_PREFIX: "gpu",
      });
      expect(env).not.toHaveProperty("WORKERS_CACHE_PURGE_SECRET");
    }
    /** The secrets the function's role may read. */
    const reads = (fn: string) => {
      const attribute = functions[fn]?.Properties.Role as { "Fn::GetAtt": [string, string] } | undefined;
      const role = attribute?.["Fn::GetAtt"][0];
      expect(role).toBeDefined();
      return Object.values(template.findResources("AWS::IAM::Policy") as Resources)
        .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: role }]))
        .flatMap(
          (policy) =>
            (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
        )
        .filter((statement) => JSON.stringify(statement.Action).includes("secretsmanager:GetSecretValue"))
        .map((statement) => (statement.Resource as { Ref: string }).Ref);
    };
    expect(reads(functionId("Replays failed"))).toEqual(expect.arrayContaining([secret, token]));
    expect(reads(functionId("Signed booking-system webhooks"))).toEqual(
      expect.arrayContaining([secret, token]),
    );
  });

  it("without workersCachePurgeUrl makes no purge secret, and the retry Lambda gets no Redis", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const { workersCachePurgeUrl: _url, ...rest } = CONTEXT;
    const plain = new EdgeCacheStack(app, "NoWorkersCache", {
      config: parseEdgeCacheConfig((key) => rest[key as keyof typeof rest]),
    });
    const t = Template.fromStack(plain);
    t.resourceCountIs("AWS::SecretsManager::Secret", 3);
    expect(plain.secrets.workersCachePurgeSecret).toBeUndefined();
    const envs = Object.values(t.findResources("AWS::Lambda::Function") as Resources).map(
      (fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    for (const env of envs)
      expect(Object.keys(env).filter((name) => name.startsWith("WORKERS_CACHE_"))).toEqual([]);
    const retryEnv = envs.find((env) => !("WEBHOOK_SECRETS_SECRET_ARN" in env));
    expect(retryEnv).not.toHaveProperty("UPSTASH_REDIS_REST_URL");
  });

  it("puts a CloudFront distribution in front of the origin: HTTPS only, compressed, origin TTLs", () => {
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        Origins: [
          Match.objectLike({
            DomainName: "api.gpu-market.internal",
            CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: "https-only" }),
          }),
        ],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: "https-only", Compress: true }),
      }),
    });
    template.hasResourceProperties("AWS::CloudFront::CachePolicy", {
      CachePolicyConfig: Match.objectLike({ MinTTL: 0, DefaultTTL: 0 }),
    });
  });

  it("keys the cache on every query string (the refills' tag version among them), for a day at most: tag versions outlive that", () => {
    const policies = Object.values(template.findResources("AWS::CloudFront::CachePolicy")) as Array<{
      Properties: { CachePolicyConfig: Record<string, unknown> };
    }>;
    expect(policies).toHaveLength(1);
    const config = policies[0]?.Properties.CachePolicyConfig ?? {};
    expect(config.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      QueryStringsConfig: { QueryStringBehavior: "all" },
    });
    expect(config.MaxTTL).toBe(ORIGIN_CDN_MAX_TTL_SECONDS);
    // A copy the distribution took before an event expires (stale windows included) before the
    // event's tag version does: until then refills ask for the versioned URL.
    expect(TAG_VERSION_TTL_SECONDS).toBeGreaterThan(Number(config.MaxTTL));
    // The distribution uses that policy.
    const [policyId] = Object.keys(template.findResources("AWS::CloudFront::CachePolicy"));
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ CachePolicyId: { Ref: policyId } }),
      }),
    });
  });

  it("alarms on DLQ messages, retry age, and errors and throttles of both Lambdas", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm") as Resources).map(
      (alarm) => alarm.Properties,
    );
    const dlq = stack.getLogicalId(stack.retryQueue.deadLetterQueue.node.defaultChild as never);
    expect(
      alarms.some(
        (a) =>
          a.MetricName === "ApproximateNumberOfMessagesVisible" &&
          a.Threshold === 0 &&
          a.ComparisonOperator === "GreaterThanThreshold" &&
          JSON.stringify(a.Dimensions).includes(dlq),
      ),
    ).toBe(true);
    expect(alarms.some((a) => a.MetricName === "ApproximateAgeOfOldestMessage")).toBe(true);
    for (const id of Object.keys(functions))
      for (const metric of ["Errors", "Throttles"])
        expect(
          alarms.some((a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(id)),
          `${metric} alarm for ${id}`,
        ).toBe(true);
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "oncall@gpu-market.internal",
    });
  });

  it("outputs the webhook URL, distribution and queue URLs", () => {
    const outputs = Object.keys(template.findOutputs("*"));
    for (const name of [
      "WebhookUrl",
      "DistributionId",
      "DistributionDomainName",
      "RetryQueueUrl",
      "DeadLetterQueueUrl",
    ])
      expect(outputs).toContain(name);
  });

  it("passes cdk-nag's AWS Solutions checks (every exception acknowledged with a reason)", () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
    expect(report.success).toBe(true);
  });

  it("imports an existing distribution and still scopes invalidation to its ARN", () => {
    // No bundling for this second stack: the first synth already bundled both entries.
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const imported = new EdgeCacheStack(app, "Imported", {
      config: {
        ...parseEdgeCacheConfig((key) => CONTEXT[key as keyof typeof CONTEXT]),
        distributionId: "E2ABCDEFGHIJKL",
        distributionDomainName: "d111111abcdef8.cloudfront.net",
      },
    });
    const t = Template.fromStack(imported);
    t.resourceCountIs("AWS::CloudFront::Distribution", 0);
    const statements = Object.values(t.findResources("AWS::IAM::Policy") as Resources).flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
    );
    const invalidation = statements.find((s) => JSON.stringify(s.Action).includes("cloudfront:"));
    expect(JSON.stringify(invalidation?.Resource)).toContain(":distribution/E2ABCDEFGHIJKL");
  });
});
