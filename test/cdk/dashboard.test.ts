/**
 * The CloudWatch dashboard: one per stack, graphing every metric the Lambdas define
 * (lambdas/shared/metrics.ts) in their namespace and dimensions, beside the alarms' metrics.
 * The body is read back as JSON (its CloudFormation references as placeholders), so the
 * assertions name widgets and metrics rather than snapshot the template. No bundling: the
 * Lambdas' code is not what is checked here.
 */
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEdgeCacheConfig } from "../../cdk/lib/config";
import { EdgeCacheStack } from "../../cdk/lib/edge-cache-stack";
import { EVENT_TYPES } from "../../core/events";
import { METRIC_DEFINITIONS, METRICS_NAMESPACE, METRICS_SERVICE } from "../../lambdas/shared/metrics";
import { PURGE_PROVIDERS } from "../../lambdas/shared/purge-providers";

const CONTEXT: Record<string, unknown> = {
  originDomain: "api.gpu-market.internal",
  upstashRedisRestUrl: "https://eu1-test.upstash.io",
  retryMaxReceiveCount: "7",
  "aws:cdk:bundling-stacks": [],
};

type Resources = Record<string, { Properties: Record<string, unknown> }>;

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: unknown[][];
    readonly alarms?: string[];
    readonly query?: string;
  };
}

let stack: EdgeCacheStack;
let template: Template;
let widgets: Widget[];

/** `{"Fn::Join": ["", parts]}` → text, each reference a `<Ref:Id>` / `<GetAtt:Id.Attr>` placeholder. */
function joined(value: unknown): string {
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (!join) return String(value);
  return join[1]
    .map((part) => {
      if (typeof part === "string") return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref) return `<Ref:${ref}>`;
      const getAtt = (part as { "Fn::GetAtt"?: [string, string] })["Fn::GetAtt"];
      if (getAtt) return `<GetAtt:${getAtt.join(".")}>`;
      return `<${Object.keys(part as object).join(",")}>`;
    })
    .join("");
}

beforeAll(() => {
  const app = new App({ context: CONTEXT });
  stack = new EdgeCacheStack(app, "Dash", {
    config: parseEdgeCacheConfig((key) => app.node.tryGetContext(key)),
  });
  template = Template.fromStack(stack);
  const [dashboard] = Object.values(template.findResources("AWS::CloudWatch::Dashboard") as Resources);
  widgets = (JSON.parse(joined(dashboard?.Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
}, 60_000);

/** The metric arrays of the graph titled like `title`: `[namespace, name, dimension, value, …, options?]`. */
function metricsOf(title: RegExp): unknown[][] {
  const widget = widgets.find((candidate) => title.test(candidate.properties.title ?? ""));
  if (!widget) throw new Error(`no widget titled ${title}`);
  return widget.properties.metrics ?? [];
}

/** The Lambdas' metric of that name in a graph's arrays, with its dimensions as an object. */
function ours(metrics: unknown[][], name: string) {
  return metrics
    .filter((metric) => metric[0] === METRICS_NAMESPACE && metric[1] === name)
    .map((metric) => {
      const parts = metric.slice(2);
      const options = typeof parts.at(-1) === "object" ? (parts.pop() as Record<string, unknown>) : {};
      const dimensions: Record<string, unknown> = {};
      for (let index = 0; index + 1 < parts.length; index += 2)
        dimensions[String(parts[index])] = parts[index + 1];
      return { dimensions, options };
    });
}

describe("CloudWatch dashboard", () => {
  it("is one dashboard, named after the stack, and an output says so", () => {
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    template.hasResourceProperties("AWS::CloudWatch::Dashboard", { DashboardName: "Dash" });
    expect(Object.keys(template.findOutputs("DashboardName"))).toEqual(["DashboardName"]);
  });

  it("graphs every metric the Lambdas define, in their namespace, with the service dimension", () => {
    const all = widgets.flatMap((widget) => widget.properties.metrics ?? []);
    for (const name of Object.keys(METRIC_DEFINITIONS)) {
      const found = ours(all, name);
      expect(found.length, `${name} on the dashboard`).toBeGreaterThan(0);
      for (const { dimensions } of found) expect(dimensions.service).toBe(METRICS_SERVICE);
    }
  });

  it("events per type: one series per event type the Lambda knows", () => {
    const applied = ours(metricsOf(/^Events applied per type/), "EventsApplied");
    expect(applied.map(({ dimensions }) => dimensions.type)).toEqual([...EVENT_TYPES]);
    for (const { options } of applied) expect(options.stat).toBe("Sum");
  });

  it("stale and duplicate events as totals over the types (metric math, each series filled with 0)", () => {
    const metrics = metricsOf(/^Stale and duplicate/);
    const expressions = metrics
      .map((metric) => metric.at(-1) as { expression?: string; label?: string })
      .filter((options) => options.expression);
    const stale = expressions.find((options) => options.label === "stale");
    expect(stale?.expression?.split(" + ")).toHaveLength(EVENT_TYPES.length);
    expect(stale?.expression).toMatch(/^FILL\(eventsStale0, 0\)/);
    expect(ours(metrics, "EventsStale")).toHaveLength(EVENT_TYPES.length);
    expect(ours(metrics, "EventsDuplicate")).toHaveLength(EVENT_TYPES.length);
  });

  it("propagation and the Redis step as p50 and p99", () => {
    for (const [title, name] of [
      [/^Propagation/, "PropagationDelay"],
      [/^Redis step latency/, "RedisStepLatency"],
    ] as const)
      expect(ours(metricsOf(title), name).map(({ options }) => options.stat)).toEqual(["p50", "p99"]);
  });

  it("purge calls per provider, every provider the purgers have", () => {
    const metrics = metricsOf(/^Purge calls per provider/);
    expect(ours(metrics, "PurgeCalls").map(({ dimensions }) => dimensions.provider)).toEqual([
      ...PURGE_PROVIDERS,
    ]);
    expect(ours(metrics, "PurgeCallsFailed").map(({ options }) => options.yAxis)).toEqual(
      PURGE_PROVIDERS.map(() => "right"),
    );
  });

  it("queued, retried, failed again and dead-lettered purges; the DLQ depth and the retry queue's age", () => {
    const flow = metricsOf(/^Retry queue flow/);
    for (const name of ["PurgesQueued", "PurgesRetried", "PurgesRetryFailed"])
      expect(ours(flow, name)).toHaveLength(PURGE_PROVIDERS.length);
    expect(ours(flow, "PurgesDeadLettered")).toEqual([
      { dimensions: { service: METRICS_SERVICE }, options: expect.objectContaining({ stat: "Sum" }) },
    ]);

    const queues = metricsOf(/^DLQ depth/);
    const dlq = stack.getLogicalId(stack.retryQueue.deadLetterQueue.node.defaultChild as never);
    const queue = stack.getLogicalId(stack.retryQueue.queue.node.defaultChild as never);
    const sqs = queues.filter((metric) => metric[0] === "AWS/SQS");
    expect(sqs.map((metric) => [metric[1], metric[3]])).toEqual([
      ["ApproximateNumberOfMessagesVisible", `<GetAtt:${dlq}.QueueName>`],
      ["ApproximateNumberOfMessagesVisible", `<GetAtt:${queue}.QueueName>`],
      ["ApproximateAgeOfOldestMessage", `<GetAtt:${queue}.QueueName>`],
    ]);
  });

  it("Lambda errors, throttles and duration for both functions, and every alarm's state", () => {
    const lambdas = [...metricsOf(/^Lambda errors and throttles/), ...metricsOf(/^Lambda duration/)].filter(
      (metric) => metric[0] === "AWS/Lambda",
    );
    const webhook = stack.getLogicalId(stack.webhook.function.node.defaultChild as never);
    const retry = stack.getLogicalId(stack.retry.function.node.defaultChild as never);
    for (const fn of [webhook, retry])
      for (const name of ["Errors", "Throttles", "Duration"])
        expect(
          lambdas.some((metric) => metric[1] === name && metric[3] === `<Ref:${fn}>`),
          `${name} of ${fn}`,
        ).toBe(true);

    const status = widgets.find((widget) => widget.type === "alarm");
    const alarmIds = Object.keys(template.findResources("AWS::CloudWatch::Alarm"));
    expect(status?.properties.alarms).toHaveLength(alarmIds.length);
    for (const id of alarmIds) expect(status?.properties.alarms).toContain(`<GetAtt:${id}.Arn>`);
  });

  it("queries the audit lines of both Lambdas' log groups", () => {
    const queries = widgets
      .filter((widget) => widget.type === "log")
      .map((widget) => widget.properties.query);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toContain('filter audit = "cache.invalidate"');
    expect(queries[1]).toContain('filter audit = "purge-call" and outcome = "failed"');
    for (const group of [stack.webhook.logGroup, stack.retry.logGroup])
      for (const query of queries)
        expect(query).toContain(`<Ref:${stack.getLogicalId(group.node.defaultChild as never)}>`);
  });

  it("tells the retry Lambda the queue's maxReceiveCount, the same number as the redrive policy", () => {
    const functions = template.findResources("AWS::Lambda::Function") as Resources;
    const variables = (fn: { node: { defaultChild?: unknown } }) => {
      const resource = functions[stack.getLogicalId(fn.node.defaultChild as never)];
      if (!resource) throw new Error("no such function");
      return (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    };
    expect(variables(stack.retry.function).PURGE_RETRY_MAX_RECEIVE_COUNT).toBe("7");
    template.hasResourceProperties("AWS::SQS::Queue", { RedrivePolicy: { maxReceiveCount: 7 } });
    expect(variables(stack.webhook.function)).not.toHaveProperty("PURGE_RETRY_MAX_RECEIVE_COUNT");
  });
});
