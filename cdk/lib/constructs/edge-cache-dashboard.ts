/**
 * The operator's CloudWatch dashboard: are events applied, how stale is the edge, are purges
 * keeping up. It graphs the Lambdas' own metrics (namespace GpuEdgeCache, EMF), named from
 * their one definition (lambdas/shared/metrics.ts) so a renamed metric breaks the synth rather
 * than leaving an empty graph, beside the alarms' metrics (DLQ depth, retry age, Lambda errors
 * and throttles) and the alarms themselves.
 *
 * Counts are graphed as Sum a minute; latencies as percentiles of their raw values. A metric
 * emitted per dimension value (per event type, per provider) is one series per value, and its
 * total a metric-math sum of them, each filled with 0 so a minute without one still adds up.
 */
import { Duration, Stack } from "aws-cdk-lib";
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ILogGroup } from "aws-cdk-lib/aws-logs";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { EVENT_TYPES } from "../../../core/events";
import { INVALIDATION_AUDIT } from "../../../lambdas/events/delivery-report";
import { PURGE_CALL_AUDIT } from "../../../lambdas/purge/purge-audit";
import {
  METRIC_DEFINITIONS,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricDefinition,
  type MetricDimensionName,
  type MetricName,
} from "../../../lambdas/shared/metrics";
import { PURGE_PROVIDERS } from "../../../lambdas/shared/purge-providers";
import type { EdgeCacheAlarms } from "./edge-cache-alarms";

const PERIOD = Duration.minutes(1);

/** Every value a dimension takes, from the code that emits it. */
const DIMENSION_VALUES: Readonly<Record<MetricDimensionName, readonly string[]>> = {
  type: EVENT_TYPES,
  provider: PURGE_PROVIDERS,
};

export interface EdgeCacheDashboardProps {
  /** The Lambdas by name (Webhook, Retry), with their log groups. */
  readonly functions: Readonly<
    Record<string, { readonly function: IFunction; readonly logGroup: ILogGroup }>
  >;
  readonly retryQueue: IQueue;
  readonly alarms: EdgeCacheAlarms;
  /** Default: the stack's name. */
  readonly dashboardName?: string;
}

/** An alarm's metric under a label of ours (the alarms build theirs from the queues' and functions' metrics). */
function labelled(metric: IMetric, label: string): IMetric {
  return metric instanceof Metric || metric instanceof MathExpression ? metric.with({ label }) : metric;
}

/** One of the Lambdas' metrics, with `service` and, if given, its own dimension's value. */
export function edgeCacheMetric(
  name: MetricName,
  options: { readonly statistic?: string; readonly label?: string; readonly dimensionValue?: string } = {},
): Metric {
  const definition: MetricDefinition = METRIC_DEFINITIONS[name];
  if ((definition.dimension === undefined) !== (options.dimensionValue === undefined))
    throw new TypeError(
      `${name} is emitted ${definition.dimension ? `per ${definition.dimension}` : "without a dimension"}`,
    );
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: {
      service: METRICS_SERVICE,
      ...(definition.dimension && options.dimensionValue
        ? { [definition.dimension]: options.dimensionValue }
        : {}),
    },
    statistic: options.statistic ?? "Sum",
    period: PERIOD,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
}

/** One series per value of the metric's dimension (the metric itself when it has none). */
export function perDimension(name: MetricName, statistic = "Sum", suffix = ""): Metric[] {
  const definition: MetricDefinition = METRIC_DEFINITIONS[name];
  if (!definition.dimension) return [edgeCacheMetric(name, { statistic, label: `${name}${suffix}` })];
  return DIMENSION_VALUES[definition.dimension].map((value) =>
    edgeCacheMetric(name, { statistic, dimensionValue: value, label: `${value}${suffix}` }),
  );
}

/** A count summed over every value of its dimension. */
export function total(name: MetricName, label: string = name): IMetric {
  const series = perDimension(name);
  if (series.length === 1 && series[0]) return edgeCacheMetric(name, { label });
  // Ids unique across a graph's expressions: one metric per id.
  const id = (index: number) => `${name.charAt(0).toLowerCase()}${name.slice(1)}${index}`;
  return new MathExpression({
    expression: series.map((_, index) => `FILL(${id(index)}, 0)`).join(" + "),
    usingMetrics: Object.fromEntries(series.map((metric, index) => [id(index), metric])),
    label,
    period: PERIOD,
  });
}

export class EdgeCacheDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: EdgeCacheDashboardProps) {
    super(scope, id);
    const { alarms } = props;
    const functions = Object.entries(props.functions);
    const graph = (title: string, left: IMetric[], options: { width?: number; right?: IMetric[] } = {}) =>
      new GraphWidget({
        title,
        left,
        ...(options.right ? { right: options.right } : {}),
        width: options.width ?? 8,
        height: 6,
      });
    const percentiles = (name: MetricName) => [
      edgeCacheMetric(name, { statistic: "p50", label: `${name} p50` }),
      edgeCacheMetric(name, { statistic: "p99", label: `${name} p99` }),
    ];

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: props.dashboardName ?? Stack.of(this).stackName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `## Events\nThe webhook Lambda: each delivery's events by outcome, how long an event took to reach Redis (occurredAt → applied), and its Redis step. Namespace \`${METRICS_NAMESPACE}\`, dimension \`service=${METRICS_SERVICE}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph("Events applied per type", perDimension("EventsApplied")),
      graph("Stale and duplicate events; refused and failed deliveries", [
        total("EventsStale", "stale"),
        total("EventsDuplicate", "duplicate"),
        total("DeliveriesRefused", "refused (4xx)"),
        total("DeliveriesUnavailable", "unavailable (503)"),
      ]),
      graph("Propagation: occurredAt → applied (ms)", percentiles("PropagationDelay")),
    );
    this.dashboard.addWidgets(
      graph("Redis step latency (ms)", percentiles("RedisStepLatency")),
      graph("Purge calls per provider (failed on the right)", perDimension("PurgeCalls"), {
        right: perDimension("PurgeCallsFailed", "Sum", " failed"),
      }),
      graph("Purge targets per provider (tags, paths, prefixes)", perDimension("PurgeTargets")),
    );
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          "## Purges\nQueued by the webhook Lambda (deferred or failed), replayed by the retry Lambda, dead-lettered after the queue's maxReceiveCount; the queues, and the Lambdas.",
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph("Retry queue flow", [
        total("PurgesQueued", "queued"),
        total("PurgesNotQueued", "not queued (left owed)"),
        total("PurgesRetried", "retried"),
        total("PurgesRetryFailed", "failed again"),
        total("PurgesDeadLettered", "dead-lettered"),
        total("PoisonMessages", "poison"),
      ]),
      graph("Queued purge age p99 (ms): queued → replayed", perDimension("QueuedPurgeAge", "p99", " p99")),
      graph(
        "DLQ depth; retry queue backlog (oldest age, s, on the right)",
        [
          labelled(alarms.deadLetterAlarm.metric, "DLQ messages (alarmed above 0)"),
          props.retryQueue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: "Maximum",
            label: "retry queue messages",
          }),
        ],
        { right: [labelled(alarms.retryAgeAlarm.metric, "oldest retry message age")] },
      ),
    );
    const perFunction = (metrics: Readonly<Record<string, Alarm>>, label: string) =>
      functions.flatMap(([name]) => {
        const alarm = metrics[name];
        return alarm ? [labelled(alarm.metric, `${name} ${label}`)] : [];
      });
    this.dashboard.addWidgets(
      graph("Lambda errors and throttles", [
        ...perFunction(alarms.errorAlarms, "errors"),
        ...perFunction(alarms.throttleAlarms, "throttles"),
      ]),
      graph(
        "Lambda duration (ms)",
        functions.flatMap(([name, { function: fn }]) => [
          fn.metricDuration({ period: PERIOD, statistic: "p50", label: `${name} p50` }),
          fn.metricDuration({ period: PERIOD, statistic: "p99", label: `${name} p99` }),
        ]),
      ),
      new AlarmStatusWidget({
        title: "Alarms",
        alarms: [
          alarms.deadLetterAlarm,
          alarms.retryAgeAlarm,
          ...Object.values(alarms.errorAlarms),
          ...Object.values(alarms.throttleAlarms),
        ],
        width: 8,
        height: 6,
      }),
    );
    // The audit lines (lambdas/events/delivery-report.ts, lambdas/purge/purge-audit.ts), newest first.
    const logGroupNames = functions.map(([, { logGroup }]) => logGroup.logGroupName);
    this.dashboard.addWidgets(
      new LogQueryWidget({
        title: "Operator invalidations (audit)",
        logGroupNames,
        queryLines: [
          "fields @timestamp, webhookId, signingKeyId, eventId, status, purge, tagCount, pathCount, keyCount",
          `filter audit = "${INVALIDATION_AUDIT}"`,
          "sort @timestamp desc",
          "limit 50",
        ],
        width: 12,
        height: 6,
      }),
      new LogQueryWidget({
        title: "Failed purge calls (audit)",
        logGroupNames,
        queryLines: [
          "fields @timestamp, provider, batchKey, targets, latencyMs, error",
          `filter audit = "${PURGE_CALL_AUDIT}" and outcome = "failed"`,
          "sort @timestamp desc",
          "limit 50",
        ],
        width: 12,
        height: 6,
      }),
    );
  }
}
