/**
 * The real powertools Metrics and Logger behind the Lambdas' interfaces, their stdout read
 * back: the EMF lines CloudWatch turns into metrics (namespace, the `service` dimension and the
 * metric's own, names, units, values; one line per dimension set), and JSON log lines.
 */
import { Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { afterEach, describe, expect, it, vi } from "vitest";
import { METRIC_DEFINITIONS, METRICS_NAMESPACE, METRICS_SERVICE } from "../../../lambdas/shared/metrics";
import { createEmfMetrics, createLambdaLogger } from "../../../lambdas/shared/powertools";

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

/** What `step` wrote to stdout, one parsed JSON value per line (synchronous: flush and log are). */
function stdoutOf(step: () => void): Array<Record<string, unknown>> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    step();
  } finally {
    spy.mockRestore();
  }
  return written
    .join("")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createEmfMetrics (powertools Metrics)", () => {
  it("writes one EMF line per dimension set at flush, in the namespace, with service and the metric's dimension", () => {
    const metrics = createEmfMetrics();
    metrics.add("EventsApplied", 1, { type: "booking.created" });
    metrics.add("EventsApplied", 1, { type: "booking.created" });
    metrics.add("EventsStale", 1, { type: "booking.created" });
    metrics.add("EventsApplied", 1, { type: "pricing.updated" });
    metrics.add("PurgeCalls", 2, { provider: "cloudfront" });
    metrics.add("RedisStepLatency", 12);
    metrics.add("RedisStepLatency", 30);
    metrics.add("PropagationDelay", 250);
    // Nothing is written before the flush.
    expect(stdoutOf(() => {})).toEqual([]);

    const lines = stdoutOf(() => metrics.flush()) as EmfLine[];
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const [directive] = line._aws.CloudWatchMetrics;
      expect(line._aws.CloudWatchMetrics).toHaveLength(1);
      expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
      expect(line.service).toBe(METRICS_SERVICE);
      expect(line._aws.Timestamp).toEqual(expect.any(Number));
    }
    const byDimension = (key: string, value: string) => lines.find((line) => line[key] === value);

    const booking = byDimension("type", "booking.created");
    expect(booking?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: "GpuEdgeCache",
      Dimensions: [["service", "type"]],
      Metrics: [
        { Name: "EventsApplied", Unit: "Count" },
        { Name: "EventsStale", Unit: "Count" },
      ],
    });
    // Counts are summed before they are written.
    expect(booking).toMatchObject({ EventsApplied: 2, EventsStale: 1 });
    expect(byDimension("type", "pricing.updated")).toMatchObject({ EventsApplied: 1 });

    const cloudfront = byDimension("provider", "cloudfront");
    expect(cloudfront?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "provider"]]);
    expect(cloudfront).toMatchObject({ PurgeCalls: 2 });
    expect(cloudfront).not.toHaveProperty("type");

    // Latencies keep every value (for percentiles), with the service dimension alone.
    const plain = lines.find((line) => !("type" in line) && !("provider" in line));
    expect(plain?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: "GpuEdgeCache",
      Dimensions: [["service"]],
      Metrics: [
        { Name: "RedisStepLatency", Unit: "Milliseconds" },
        { Name: "PropagationDelay", Unit: "Milliseconds" },
      ],
    });
    expect(plain).toMatchObject({ RedisStepLatency: [12, 30], PropagationDelay: 250 });

    // A flush writes what came since the last one only.
    expect(stdoutOf(() => metrics.flush())).toEqual([]);
  });

  it("splits a set's latencies into lines of at most 99 values, each with its dimensions", () => {
    const metrics = createEmfMetrics();
    for (let value = 0; value < 250; value++)
      metrics.add("QueuedPurgeAge", value, { provider: "cloudflare" });
    metrics.add("PurgesRetried", 250, { provider: "cloudflare" });
    const lines = stdoutOf(() => metrics.flush()) as EmfLine[];
    expect(lines.map((line) => (line.QueuedPurgeAge as number[]).length)).toEqual([99, 99, 52]);
    expect(lines.map((line) => line.provider)).toEqual(["cloudflare", "cloudflare", "cloudflare"]);
    expect(lines.flatMap((line) => line.QueuedPurgeAge as number[])).toEqual(
      Array.from({ length: 250 }, (_, value) => value),
    );
    // The count goes out once, with the first line.
    expect(lines.map((line) => line.PurgesRetried)).toEqual([250, undefined, undefined]);
  });

  it("uses every metric's unit from its one definition", () => {
    const metrics = createEmfMetrics();
    for (const [name, definition] of Object.entries(METRIC_DEFINITIONS)) {
      const dimension = "dimension" in definition ? definition.dimension : undefined;
      const dimensions =
        dimension === "type" ? { type: "gpu.upserted" } : dimension ? { provider: "cloudflare" } : {};
      (metrics.add as (name: string, value: number, dimensions: object) => void)(name, 1, dimensions);
    }
    const units = new Map(
      (stdoutOf(() => metrics.flush()) as EmfLine[]).flatMap((line) =>
        (line._aws.CloudWatchMetrics[0]?.Metrics ?? []).map((metric) => [metric.Name, metric.Unit] as const),
      ),
    );
    expect(Object.fromEntries(units)).toEqual(
      Object.fromEntries(Object.entries(METRIC_DEFINITIONS).map(([name, { unit }]) => [name, unit])),
    );
  });

  it("never throws from a flush: a failed write is reported to onError and the next flush works", () => {
    const failing = new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
    vi.spyOn(failing, "publishStoredMetrics").mockImplementationOnce(() => {
      throw new Error("stdout closed");
    });
    const errors: unknown[] = [];
    const metrics = createEmfMetrics({ metrics: failing, onError: (error) => errors.push(error) });
    metrics.add("PoisonMessages", 1);
    expect(() => metrics.flush()).not.toThrow();
    expect(String(errors[0])).toContain("stdout closed");
    metrics.add("PoisonMessages", 1);
    expect(stdoutOf(() => metrics.flush())).toMatchObject([{ PoisonMessages: 1 }]);
  });
});

describe("createLambdaLogger (powertools Logger)", () => {
  it("prints each call as one JSON line: level, message, service, the Lambda context and the fields", () => {
    const logger = createLambdaLogger("gpu-edge-cache-webhook");
    logger.addContext({
      awsRequestId: "req-1",
      functionName: "Webhook",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:Webhook",
      memoryLimitInMB: "512",
    } as never);
    const [line] = stdoutOf(() => logger.info("webhook delivery", { webhookId: "msg_1", eventCount: 2 }));
    expect(line).toMatchObject({
      level: "INFO",
      message: "webhook delivery",
      service: "gpu-edge-cache-webhook",
      function_request_id: "req-1",
      function_name: "Webhook",
      cold_start: expect.any(Boolean),
      webhookId: "msg_1",
      eventCount: 2,
      timestamp: expect.any(String),
    });
  });
});
