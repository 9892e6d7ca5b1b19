/**
 * What the Worker reports, in one object built once per isolate (workers/index.ts): the JSON
 * log, the data point sink (Analytics Engine or memory), the per-isolate request and
 * operator-action counters behind /_cache/metrics, and the clock latencies are read on.
 */
import { type Clock, systemClock } from "../../core/time/clock";
import { dataPointOf, type RequestObservation } from "./data-point";
import { type DataPointSink, dataPointSinkFor, type MemoryDataPoints } from "./data-point-sink";
import { createEdgeLog, type EdgeLog, errorFields, type LogFields } from "./log";
import { RequestCounters } from "./request-counters";

/** One operator action (a call of POST /_cache/purge): its audit line and its count. */
export interface AuditEntry {
  /** What was asked: `cache-purge`. */
  readonly action: string;
  /** How it ended, in one word of the action's own (`purged`, `refused`, …). */
  readonly result: string;
  readonly status: number;
  readonly requestId: string | undefined;
  /** Who and what: ids, kinds and counts, never a secret, a token or a body. */
  readonly fields?: LogFields;
}

export interface ActionCount {
  readonly action: string;
  readonly result: string;
  count: number;
}

export interface EdgeTelemetry {
  readonly log: EdgeLog;
  readonly clock: Clock;
  readonly points: DataPointSink;
  /** The in-memory recorder when the runtime has no Analytics Engine binding. */
  readonly memoryPoints: MemoryDataPoints | undefined;
  readonly requests: RequestCounters;
  readonly actions: readonly ActionCount[];
  /** One answered request: its data point, its count and its log line. */
  recordRequest(observation: RequestObservation, requestId: string, path: string): void;
  audit(entry: AuditEntry): void;
}

export interface TelemetryOptions {
  readonly log?: EdgeLog;
  readonly clock?: Clock;
  /** The `EDGE_METRICS` binding as the runtime gives it: absent or not a dataset, points stay in memory. */
  readonly analytics?: unknown;
}

/** 5xx the Worker could not help (an internal error) is an error; one it chose (503 with Retry-After) a warning. */
function levelOf(status: number): "info" | "warn" | "error" {
  if (status === 500) return "error";
  return status >= 500 ? "warn" : "info";
}

export function createTelemetry(options: TelemetryOptions = {}): EdgeTelemetry {
  const log = options.log ?? createEdgeLog();
  let pointErrorLogged = false;
  const sink = dataPointSinkFor(options.analytics, (error) => {
    // Once per isolate: a binding that refuses one point refuses them all.
    if (pointErrorLogged) return;
    pointErrorLogged = true;
    log.error("data-point-refused", errorFields(error));
  });
  const requests = new RequestCounters();
  const actions = new Map<string, ActionCount>();
  return {
    log,
    clock: options.clock ?? systemClock,
    points: sink,
    memoryPoints: sink.memory,
    requests,
    get actions() {
      return [...actions.values()];
    },
    recordRequest(observation, requestId, path) {
      sink.write(dataPointOf(observation));
      requests.count(observation);
      log[levelOf(observation.status)]("request", {
        requestId,
        method: observation.method,
        route: observation.route,
        path,
        dataClass: observation.dataClass,
        tier: observation.tier,
        stale: observation.stale,
        status: observation.status,
        outcome: observation.outcome,
        latencyMs: observation.latencyMs,
        syncAgeMs: observation.syncAgeMs,
        colo: observation.colo,
      });
    },
    audit(entry) {
      // Results are the action's own few words: the map stays as small as the code makes it.
      const key = `${entry.action}\n${entry.result}`;
      let counted = actions.get(key);
      if (!counted) {
        counted = { action: entry.action, result: entry.result, count: 0 };
        actions.set(key, counted);
      }
      counted.count += 1;
      log[entry.status < 400 ? "info" : "warn"]("audit", {
        ...entry.fields,
        requestId: entry.requestId,
        action: entry.action,
        result: entry.result,
        status: entry.status,
      });
    },
  };
}
