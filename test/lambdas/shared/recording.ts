/** A recording logger and a recording metrics fake: what the Lambdas' code said, as data. */
import type { LogFields, Logger } from "../../../lambdas/shared/logger";
import type { MetricDimensions, MetricName, Metrics } from "../../../lambdas/shared/metrics";

export type LogLevel = "info" | "warn" | "error";

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
  /** The message and the fields as JSON, for a quick match. */
  readonly text: string;
}

/** A logger that keeps every line, by level, with its fields merged. */
export function recordingLogger() {
  const lines: LogLine[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, ...fields: LogFields[]) => {
      const merged: LogFields = Object.assign({}, ...fields);
      lines.push({ level, message, fields: merged, text: `${message} ${JSON.stringify(merged)}` });
    };
  const logger: Logger = { info: at("info"), warn: at("warn"), error: at("error") };
  return { lines, logger };
}

export interface RecordedMetric {
  readonly name: MetricName;
  readonly value: number;
  readonly dimensions: MetricDimensions;
}

/** Metrics that keep every value; `total` sums a metric, optionally for one dimension value. */
export function recordingMetrics() {
  const recorded: RecordedMetric[] = [];
  const metrics: Metrics = {
    add(name: MetricName, value: number, dimensions?: MetricDimensions) {
      recorded.push({ name, value, dimensions: dimensions ?? {} });
    },
  };
  const matching = (name: MetricName, dimensions: MetricDimensions = {}) =>
    recorded.filter(
      (entry) =>
        entry.name === name &&
        Object.entries(dimensions).every(
          ([key, value]) => entry.dimensions[key as keyof MetricDimensions] === value,
        ),
    );
  return {
    metrics,
    recorded,
    values: (name: MetricName, dimensions?: MetricDimensions) =>
      matching(name, dimensions).map((entry) => entry.value),
    total: (name: MetricName, dimensions?: MetricDimensions) =>
      matching(name, dimensions).reduce((sum, entry) => sum + entry.value, 0),
  };
}
