/**
 * Where data points go: the Analytics Engine binding (`EDGE_METRICS`, wrangler.toml) when the
 * runtime has it, else a bounded in-memory recorder (Node tools, tests, a Worker run without
 * the binding), whose points tests read and whose counts /_cache/metrics reports either way.
 */
import type { DataPoint } from "./data-point";

/** `AnalyticsEngineDataset` as the Worker uses it (workers-types), typed structurally. */
export interface DataPointWriter {
  writeDataPoint(point: DataPoint): void;
}

export type DataPointSinkKind = "analytics-engine" | "memory";

export interface DataPointSink {
  readonly kind: DataPointSinkKind;
  /** Points handed to the writer without it throwing. */
  readonly written: number;
  /** Points the writer refused by throwing (a bad point, a runtime fault); the request is answered anyway. */
  readonly failed: number;
  write(point: DataPoint): void;
}

/** Enough recent points to read back in a test or a debugging session, a few KiB at most. */
export const MEMORY_POINTS_KEPT = 256;

/** Keeps the last MEMORY_POINTS_KEPT points, oldest first in `points`. */
export class MemoryDataPoints implements DataPointWriter {
  private readonly kept: DataPoint[] = [];

  writeDataPoint(point: DataPoint): void {
    this.kept.push(point);
    if (this.kept.length > MEMORY_POINTS_KEPT) this.kept.shift();
  }

  get points(): readonly DataPoint[] {
    return this.kept;
  }
}

export function isDataPointWriter(value: unknown): value is DataPointWriter {
  return typeof (value as { writeDataPoint?: unknown } | null)?.writeDataPoint === "function";
}

/**
 * The sink over the binding when `binding` is one, else over a MemoryDataPoints. A throwing
 * writer is counted and reported through `onError`, never to the request.
 */
export function dataPointSinkFor(
  binding: unknown,
  onError: (error: unknown) => void = () => {},
): DataPointSink & { readonly memory: MemoryDataPoints | undefined } {
  const memory = isDataPointWriter(binding) ? undefined : new MemoryDataPoints();
  const writer: DataPointWriter = memory ?? (binding as DataPointWriter);
  let written = 0;
  let failed = 0;
  return {
    kind: memory ? "memory" : "analytics-engine",
    memory,
    get written() {
      return written;
    },
    get failed() {
      return failed;
    },
    write(point) {
      try {
        writer.writeDataPoint(point);
        written += 1;
      } catch (error) {
        failed += 1;
        onError(error);
      }
    },
  };
}
