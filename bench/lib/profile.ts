/** How long and how hard each scenario runs; `quick` must finish the whole suite in about 5 minutes. */
export interface BenchProfile {
  readonly name: "full" | "quick" | "smoke";
  readonly connections: number;
  /** Seconds per load run. */
  readonly seconds: number;
  /** Seconds of one-request-at-a-time latency probing per peer and Redis distance. */
  readonly latencyProbeSeconds: number;
  /** L1-ceiling rounds (bare and ours alternated). */
  readonly rounds: number;
  readonly mixSeconds: number;
  /** Webhook deliveries per second during the mix. */
  readonly mixDeliveriesPerSecond: number;
  readonly propagationEvents: number;
  readonly propagationInFlight: number;
  /** Single-event deliveries sent, unmeasured, before the event-throughput runs. */
  readonly eventsWarmup: number;
  readonly singleEvents: number;
  readonly batchedEvents: number;
  /** Measuring time of one engine-vs-bentocache round, per side and operation. */
  readonly engineDurationMs: number;
  /** Engine-vs-bentocache rounds, each side once per round in alternating order; the ratio is the rounds' median. */
  readonly engineRounds: number;
  /** The key universe of the mix (the figure is 10,000). */
  readonly mixKeys: number;
  /**
   * Freshness through every tier: seconds of reading per mode (two modes, a stack each, about
   * 5 s of start and stop apiece); the writer stops one bound (2 s) before the readers.
   */
  readonly freshnessSeconds: number;
  readonly freshnessReaders: number;
  /** One booking, cancellation or price change per this interval. */
  readonly freshnessEventIntervalMs: number;
  /** Timing runs per body and codec in the compression measurement (the median is kept). */
  readonly compressionRuns: number;
  /** Bodies timed per size bucket (all bodies are compressed once for the sizes). */
  readonly compressionTimedBodies: number;
}

export const PROFILES: Readonly<Record<BenchProfile["name"], BenchProfile>> = {
  full: {
    name: "full",
    connections: 32,
    seconds: 10,
    latencyProbeSeconds: 5,
    rounds: 3,
    mixSeconds: 60,
    mixDeliveriesPerSecond: 2,
    propagationEvents: 500,
    propagationInFlight: 5,
    eventsWarmup: 5_000,
    singleEvents: 5_000,
    batchedEvents: 20_000,
    engineDurationMs: 2_000,
    engineRounds: 8,
    mixKeys: 10_000,
    freshnessSeconds: 30,
    freshnessReaders: 6,
    freshnessEventIntervalMs: 250,
    compressionRuns: 51,
    compressionTimedBodies: 24,
  },
  quick: {
    name: "quick",
    connections: 32,
    seconds: 3,
    latencyProbeSeconds: 2,
    rounds: 2,
    mixSeconds: 12,
    mixDeliveriesPerSecond: 2,
    propagationEvents: 200,
    propagationInFlight: 5,
    eventsWarmup: 2_000,
    singleEvents: 1_000,
    batchedEvents: 5_000,
    engineDurationMs: 500,
    engineRounds: 6,
    mixKeys: 10_000,
    freshnessSeconds: 12,
    freshnessReaders: 6,
    freshnessEventIntervalMs: 250,
    compressionRuns: 31,
    compressionTimedBodies: 12,
  },
  /** For the test that the harness starts and writes valid results; its figures mean nothing. */
  smoke: {
    name: "smoke",
    connections: 4,
    seconds: 0.5,
    latencyProbeSeconds: 0.3,
    rounds: 1,
    mixSeconds: 1,
    mixDeliveriesPerSecond: 5,
    propagationEvents: 4,
    propagationInFlight: 2,
    eventsWarmup: 20,
    singleEvents: 20,
    batchedEvents: 200,
    engineDurationMs: 200,
    engineRounds: 2,
    mixKeys: 300,
    // Just past the bound, so the writer sends a couple of changes and every figure exists.
    freshnessSeconds: 2.5,
    freshnessReaders: 4,
    freshnessEventIntervalMs: 200,
    compressionRuns: 3,
    compressionTimedBodies: 2,
  },
};
