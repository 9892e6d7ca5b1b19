/**
 * What the Worker reports (README "Worker observability"): JSON logs with an audit line per
 * operator action, one Analytics Engine data point per answered request, and the counters
 * behind /_cache/metrics.
 */
export {
  ANALYTICS_BINDING,
  ANALYTICS_DATASET,
  blobColumn,
  DATA_POINT_LAYOUT,
  DATA_POINT_LIMITS,
  type DataPoint,
  dataPointOf,
  doubleColumn,
  NO_SYNC_AGE,
  outcomeOf,
  type RequestObservation,
  type RequestOutcome,
} from "./data-point";
export {
  type DataPointSink,
  type DataPointWriter,
  dataPointSinkFor,
  isDataPointWriter,
  MEMORY_POINTS_KEPT,
  MemoryDataPoints,
} from "./data-point-sink";
export {
  consoleSink,
  createEdgeLog,
  type EdgeLog,
  engineLogger,
  errorFields,
  type LogFields,
  type LogLevel,
  type LogRecord,
  type LogSink,
  logRecord,
  MAX_LOG_TEXT_LENGTH,
  REDACTED,
  recordingLog,
} from "./log";
export {
  Exposition,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  type Labels,
  MetricNameError,
  type MetricType,
  PROMETHEUS_CONTENT_TYPE,
  type Sample,
} from "./prometheus";
export { MAX_REQUEST_SERIES, RequestCounters } from "./request-counters";
export { type EdgeEnv, type EdgeVariables, requestIdOf, requestTelemetry } from "./request-telemetry";
export { type AuditEntry, createTelemetry, type EdgeTelemetry, type TelemetryOptions } from "./telemetry";
