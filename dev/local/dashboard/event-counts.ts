/**
 * What the local event app answered, for the dashboard: per event type, how many events came
 * back applied, stale or duplicate (the statuses of lambdas/events/app.ts's 202), and for the
 * applied ones the propagation delay, answer time minus the event's `occurredAt`. The events
 * server (dev/local/events-server.ts) records each answer; nothing here reaches the product.
 */
import { APPLY_STATUSES, type ApplyStatus } from "../../../core/redis/fields";
import type { Clock } from "../../../core/time/clock";

export const APPLY_STATUS_NAMES = Object.values(APPLY_STATUSES) as readonly ApplyStatus[];

/** Propagation percentiles cover the events applied this recently. */
export const PROPAGATION_WINDOW_MS = 60_000;
/** Samples kept for them, however many events a burst applies within the window. */
const MAX_PROPAGATION_SAMPLES = 10_000;

export type StatusCounts = Record<ApplyStatus, number>;

export interface EventCountsSnapshot {
  /** Every event answered with a 202, by status. */
  readonly total: StatusCounts;
  readonly byType: Readonly<Record<string, StatusCounts>>;
  /** Deliveries by HTTP status (202, and the refusals: 400, 401, 413, 415, 503). */
  readonly deliveries: Readonly<Record<string, number>>;
  /** Over the events applied in the last `windowMs`; null percentiles when there were none. */
  readonly propagation: {
    readonly windowMs: number;
    readonly count: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
    readonly maxMs: number | null;
  };
}

/** One event of an accepted delivery: what was sent, and the status the app answered for it. */
export interface AnsweredEvent {
  readonly type: string;
  readonly status: ApplyStatus;
  /** Milliseconds since the epoch; undefined when the event's `occurredAt` did not parse. */
  readonly occurredAt: number | undefined;
}

export interface EventCounts {
  /** A delivery answered `status`; `events` only for a 202. */
  record(status: number, events?: readonly AnsweredEvent[]): void;
  snapshot(): EventCountsSnapshot;
}

function zeroCounts(): StatusCounts {
  return Object.fromEntries(APPLY_STATUS_NAMES.map((name) => [name, 0])) as StatusCounts;
}

/** Nearest rank: the smallest sample at or above `fraction` of them. */
export function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** `clock` is wall-clock time: it is compared with the events' `occurredAt` dates. */
export function createEventCounts(clock: Clock): EventCounts {
  const total = zeroCounts();
  const byType = new Map<string, StatusCounts>();
  const deliveries = new Map<string, number>();
  // Oldest first: pruned from the front as they leave the window.
  let samples: Array<{ readonly at: number; readonly ms: number }> = [];

  const prune = (now: number) => {
    const keepFrom = samples.findIndex((sample) => now - sample.at <= PROPAGATION_WINDOW_MS);
    samples = keepFrom < 0 ? [] : samples.slice(Math.max(keepFrom, samples.length - MAX_PROPAGATION_SAMPLES));
  };

  return {
    record(status, events = []) {
      deliveries.set(String(status), (deliveries.get(String(status)) ?? 0) + 1);
      const now = clock.now();
      for (const event of events) {
        total[event.status] += 1;
        const counts = byType.get(event.type) ?? zeroCounts();
        counts[event.status] += 1;
        byType.set(event.type, counts);
        if (event.status === APPLY_STATUSES.applied && event.occurredAt !== undefined)
          // A sender's clock ahead of ours would give a negative delay; it is at least zero.
          samples.push({ at: now, ms: Math.max(0, now - event.occurredAt) });
      }
      prune(now);
    },
    snapshot() {
      prune(clock.now());
      const sorted = samples.map((sample) => sample.ms).sort((a, b) => a - b);
      return {
        total: { ...total },
        byType: Object.fromEntries([...byType].map(([type, counts]) => [type, { ...counts }])),
        deliveries: Object.fromEntries(deliveries),
        propagation: {
          windowMs: PROPAGATION_WINDOW_MS,
          count: sorted.length,
          p50Ms: percentile(sorted, 0.5),
          p99Ms: percentile(sorted, 0.99),
          maxMs: sorted.at(-1) ?? null,
        },
      };
    },
  };
}
