/**
 * The Lambdas' CloudWatch metrics, defined once: the namespace, the `service` dimension, and
 * every metric's name, unit and dimension. The Lambdas emit them through the `Metrics`
 * interface (in Lambda: Embedded Metric Format lines, lambdas/shared/powertools.ts), and the
 * CDK dashboard (cdk/lib/constructs/edge-cache-dashboard.ts) graphs them by the same names, so
 * the two cannot drift apart. Nothing here imports powertools: the CDK app reads this file.
 */
import type { EventType } from "../../core/events";
import type { PurgeProviderName } from "./purge-providers";

export const METRICS_NAMESPACE = "GpuEdgeCache";

/**
 * Every metric carries powertools' `service` dimension; both Lambdas use this one value, so
 * the purge metrics both emit (PurgeCalls, …) add up across them in one series per provider.
 */
export const METRICS_SERVICE = "gpu-edge-cache";

/** The value each dimension takes: an event's `type`, a purge's `provider`. */
export interface MetricDimensionValues {
  readonly type: EventType;
  readonly provider: PurgeProviderName;
}

export type MetricDimensionName = keyof MetricDimensionValues;

export type MetricUnit = "Count" | "Milliseconds";

export interface MetricDefinition {
  readonly unit: MetricUnit;
  /** The one dimension besides `service`, if any. */
  readonly dimension?: MetricDimensionName;
  /** What one data point is (the README's table and the dashboard's reader). */
  readonly description: string;
}

export const METRIC_DEFINITIONS = {
  // The webhook Lambda (lambdas/events/).
  EventsApplied: { unit: "Count", dimension: "type", description: "events this delivery wrote to Redis" },
  EventsStale: {
    unit: "Count",
    dimension: "type",
    description: "events acknowledged but ignored: Redis held a newer version",
  },
  EventsDuplicate: {
    unit: "Count",
    dimension: "type",
    description: "events whose id was seen before (a redelivery); only owed purges are redone",
  },
  RedisStepLatency: {
    unit: "Milliseconds",
    description: "one delivery's Redis step: every event's script in one pipeline",
  },
  PropagationDelay: {
    unit: "Milliseconds",
    description: "from an applied event's occurredAt to its Redis step done (clamped at 0 for clock skew)",
  },
  DeliveriesRefused: {
    unit: "Count",
    description: "deliveries answered 4xx: content type, size, signature or event body",
  },
  DeliveriesUnavailable: {
    unit: "Count",
    description: "deliveries answered 503 (Redis failed); the sender redelivers. Not a Lambda error",
  },
  PurgesQueued: {
    unit: "Count",
    dimension: "provider",
    description: "purges put on the retry queue, deferred on purpose or failed in the request",
  },
  PurgesNotQueued: {
    unit: "Count",
    dimension: "provider",
    description: "purges SQS did not take: their events stay owed until the sender redelivers",
  },
  // Both Lambdas (lambdas/purge/).
  PurgeCalls: { unit: "Count", dimension: "provider", description: "requests to a purge endpoint" },
  PurgeCallsFailed: {
    unit: "Count",
    dimension: "provider",
    description: "requests to a purge endpoint that failed (their targets are owed again)",
  },
  PurgeTargets: {
    unit: "Count",
    dimension: "provider",
    description:
      "targets the requests carried: tags (Cloudflare, Workers Cache), paths (CloudFront), prefixes",
  },
  // The purge-retry Lambda (lambdas/retry/).
  PurgesRetried: {
    unit: "Count",
    dimension: "provider",
    description: "retry messages replayed (each receive counts)",
  },
  PurgesRetryFailed: {
    unit: "Count",
    dimension: "provider",
    description: "replayed retry messages that failed again and come back after the back-off",
  },
  PurgesDeadLettered: {
    unit: "Count",
    description: "retry messages that failed their last receive (maxReceiveCount): next stop the DLQ",
  },
  PoisonMessages: { unit: "Count", description: "retry messages whose body does not decode" },
  QueuedPurgeAge: {
    unit: "Milliseconds",
    dimension: "provider",
    description: "from a purge being queued to its replay succeeding",
  },
} as const satisfies Readonly<Record<string, MetricDefinition>>;

export type MetricName = keyof typeof METRIC_DEFINITIONS;

/** The dimensions `name` is emitted with: `{ type }`, `{ provider }`, or none. */
export type MetricDimensionsOf<N extends MetricName> = (typeof METRIC_DEFINITIONS)[N] extends {
  readonly dimension: infer D extends MetricDimensionName;
}
  ? { readonly [K in D]: MetricDimensionValues[K] }
  : undefined;

/** Loose dimensions, as a recording or an adapter sees them. */
export type MetricDimensions = Readonly<Partial<Record<MetricDimensionName, string>>>;

/**
 * What product code records metrics through (injected like the logger): a value for a metric,
 * with the dimension its definition names. The Lambdas flush once per invocation.
 */
export interface Metrics {
  add<N extends MetricName>(
    name: N,
    value: number,
    ...dimensions: MetricDimensionsOf<N> extends undefined ? [] : [MetricDimensionsOf<N>]
  ): void;
}

/** For code run without metrics (the local stack, tests that do not look). */
export const NO_METRICS: Metrics = { add: () => {} };
