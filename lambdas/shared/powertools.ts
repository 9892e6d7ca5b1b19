/**
 * The powertools side of the Lambdas' logger and metrics, used only by the handler modules
 * (lambdas/events/handler.ts, lambdas/retry/handler.ts), which build both once per cold start
 * and pass them to the code as the small interfaces it takes (lambdas/shared/logger.ts,
 * lambdas/shared/metrics.ts).
 *
 * Metrics are held per invocation and written at `flush()` as CloudWatch Embedded Metric
 * Format lines on stdout, which Lambda's log pipeline turns into metrics (no API call, no
 * permission). EMF gives each dimension one value per line, so `flush()` writes one line per
 * dimension set (`type=booking.created`, `provider=cloudfront`, …): each sets its dimensions
 * on the powertools Metrics, adds its values and publishes, which clears those dimensions for
 * the next.
 */
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import {
  METRIC_DEFINITIONS,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricDimensions,
  type MetricName,
  type Metrics,
} from "./metrics";

/** The Lambdas' `service` log key: which of the two wrote a line. */
export type LambdaServiceName = "gpu-edge-cache-webhook" | "gpu-edge-cache-retry";

/** JSON lines on stdout, at POWERTOOLS_LOG_LEVEL (default INFO). */
export function createLambdaLogger(serviceName: LambdaServiceName): PowertoolsLogger {
  return new PowertoolsLogger({ serviceName });
}

/** `Metrics` whose values wait for `flush()`, the end of an invocation. */
export interface FlushableMetrics extends Metrics {
  /** Writes what was added since the last flush (nothing when nothing was); never throws. */
  flush(): void;
}

const UNITS = { Count: MetricUnit.Count, Milliseconds: MetricUnit.Milliseconds } as const;

/**
 * powertools publishes on its own once a metric holds 100 values, and that publish clears the
 * dimensions the rest of the set still needs: a set's latencies go out at most 99 a line.
 */
const MAX_VALUES_PER_LINE = 99;

interface DimensionSet {
  readonly dimensions: MetricDimensions;
  /** Counts are summed before they are written (the dashboard reads their Sum). */
  readonly counts: Map<MetricName, number>;
  readonly durations: Map<MetricName, number[]>;
}

export interface EmfMetricsOptions {
  /** The powertools Metrics to write through (default: the namespace and service of lambdas/shared/metrics.ts). */
  readonly metrics?: PowertoolsMetrics;
  /** Where a failure to write goes (default console); metrics are never worth failing an invocation for. */
  readonly onError?: (error: unknown) => void;
}

export function createEmfMetrics(options: EmfMetricsOptions = {}): FlushableMetrics {
  const metrics =
    options.metrics ?? new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  const onError = options.onError ?? ((error: unknown) => console.error("metrics flush failed", error));
  let sets = new Map<string, DimensionSet>();

  const setFor = (dimensions: MetricDimensions): DimensionSet => {
    const entries = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
    const key = JSON.stringify(entries);
    let set = sets.get(key);
    if (!set) {
      set = { dimensions: Object.fromEntries(entries), counts: new Map(), durations: new Map() };
      sets.set(key, set);
    }
    return set;
  };

  const publish = (
    set: DimensionSet,
    durations: ReadonlyMap<MetricName, readonly number[]>,
    withCounts: boolean,
  ) => {
    for (const [name, value] of Object.entries(set.dimensions)) if (value) metrics.addDimension(name, value);
    if (withCounts) for (const [name, total] of set.counts) metrics.addMetric(name, UNITS.Count, total);
    for (const [name, values] of durations)
      for (const value of values) metrics.addMetric(name, UNITS.Milliseconds, value);
    metrics.publishStoredMetrics();
  };

  return {
    add(name: MetricName, value: number, dimensions?: MetricDimensions) {
      if (!Number.isFinite(value)) return;
      const set = setFor(dimensions ?? {});
      if (METRIC_DEFINITIONS[name].unit === "Count")
        set.counts.set(name, (set.counts.get(name) ?? 0) + value);
      else set.durations.set(name, [...(set.durations.get(name) ?? []), value]);
    },
    flush() {
      const pending = sets;
      sets = new Map();
      for (const set of pending.values()) {
        try {
          let first = true;
          let rest = new Map(set.durations);
          do {
            const line = new Map<MetricName, number[]>();
            const left = new Map<MetricName, number[]>();
            for (const [name, values] of rest) {
              line.set(name, values.slice(0, MAX_VALUES_PER_LINE));
              if (values.length > MAX_VALUES_PER_LINE) left.set(name, values.slice(MAX_VALUES_PER_LINE));
            }
            if (first ? set.counts.size + line.size > 0 : line.size > 0) publish(set, line, first);
            first = false;
            rest = left;
          } while (rest.size > 0);
        } catch (error) {
          // What this set left behind must not go out with the next set's dimensions.
          metrics.clearMetrics();
          metrics.clearDimensions();
          onError(error);
        }
      }
    },
  };
}
