/**
 * The comparator and its figures: every read judged against what had been acknowledged
 * before it was sent (timeline.ts), per data class: reads, reads beyond the class's bound,
 * age percentiles, and which tier answered. Pure: synthetic timelines test it
 * (test/dev/freshness/summary.test.ts).
 */
import { DATA_CLASS_NAMES, type DataClassName } from "../../core/data-classes";
import type { ReadTargetKind } from "./read-targets";
import type { FreshnessRead } from "./readers";
import type { AckTimeline } from "./timeline";
import type { WriterDelivery } from "./writer";

export interface AgePercentiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest rank: each percentile is a sample, never an interpolation between two. */
export function percentiles(samples: readonly number[]): AgePercentiles {
  if (samples.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1] ?? 0 };
}

/** The front cache served these itself; anything else reached the Worker. */
const FRONT_ANSWERS = new Set(["HIT", "STALE"]);
/** Where an answer had no such header (no front cache; an answer without X-Cache). */
export const NO_HEADER = "none";

export interface ClassFreshness {
  readonly dataClass: DataClassName;
  readonly boundMs: number;
  /** Reads answered 200 with a body of the route's shape: the ones judged. */
  readonly reads: number;
  /** Reads that failed (network, status, body). */
  readonly errors: number;
  /** Reads that missed at least one acknowledged version. */
  readonly staleReads: number;
  readonly beyondBound: number;
  readonly ageMs: AgePercentiles;
  /** Share of the judged reads per CF-Cache-Status value. */
  readonly frontStatus: Readonly<Record<string, number>>;
  /** Judged reads the Worker answered (the front cache did not: not HIT or STALE). */
  readonly workerAnswered: number;
  /** Share of those per X-Cache value (a front HIT replays its copy's, so those are left out). */
  readonly workerTier: Readonly<Record<string, number>>;
}

function shares(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return Object.fromEntries(
    Object.entries(counts)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([value, count]) => [value, count / values.length]),
  );
}

export function classFreshness(
  dataClass: DataClassName,
  reads: readonly FreshnessRead[],
  timeline: AckTimeline,
  boundMs: number,
): ClassFreshness {
  const mine = reads.filter((read) => read.dataClass === dataClass);
  const judged = mine.filter((read) => read.error === undefined);
  const ages = judged.map((read) => timeline.readAge(read.shown, read.sentAt));
  const front = judged.map((read) => read.cfCacheStatus ?? NO_HEADER);
  const worker = judged.filter((read) => !FRONT_ANSWERS.has(read.cfCacheStatus ?? NO_HEADER));
  return {
    dataClass,
    boundMs,
    reads: judged.length,
    errors: mine.length - judged.length,
    staleReads: ages.filter((age) => age > 0).length,
    beyondBound: ages.filter((age) => age > boundMs).length,
    ageMs: percentiles(ages),
    frontStatus: shares(front),
    workerAnswered: worker.length,
    workerTier: shares(worker.map((read) => read.xCache ?? NO_HEADER)),
  };
}

export interface Visibility {
  /** Changes acknowledged early enough that the readers had a whole bound after them. */
  readonly changes: number;
  readonly shownWithinBound: number;
  /** From the acknowledgement to the first read sent after it that showed the change (or newer). */
  readonly shownAfterMs: AgePercentiles;
}

/**
 * How soon each of `changes` showed on reads of `kind`: the first read sent at or after its
 * acknowledgement that showed its version or a newer one. A change not shown by the end of the
 * reads counts as not within the bound.
 */
export function visibility(
  changes: readonly WriterDelivery[],
  reads: readonly FreshnessRead[],
  kind: ReadTargetKind,
  boundMs: number,
  readsEnd: number,
): Visibility {
  const eligible = changes.filter((change) => change.ackedAt + boundMs <= readsEnd);
  const ofKind = reads.filter((read) => read.kind === kind && read.error === undefined);
  const after: number[] = [];
  for (const change of eligible) {
    const first = ofKind.find(
      (read) =>
        read.sentAt >= change.ackedAt &&
        read.shown.some((item) => item.key === change.key && item.version >= change.version),
    );
    if (first) after.push(first.sentAt - change.ackedAt);
  }
  return {
    changes: eligible.length,
    shownWithinBound: after.filter((ms) => ms <= boundMs).length,
    shownAfterMs: percentiles(after),
  };
}

export interface FreshnessSummary {
  /** Every class that was read, in core/data-classes.ts order. */
  readonly classes: readonly ClassFreshness[];
  /** Each booking on its GPU's record and on its listing. */
  readonly bookings: { readonly record: Visibility; readonly listing: Visibility };
}

export function summariseFreshness(input: {
  readonly reads: readonly FreshnessRead[];
  readonly timeline: AckTimeline;
  readonly bounds: Readonly<Record<DataClassName, number>>;
  readonly deliveries: readonly WriterDelivery[];
  /** When the readers stopped sending. */
  readonly readsEnd: number;
}): FreshnessSummary {
  const { reads, timeline, bounds, deliveries, readsEnd } = input;
  const read = new Set(reads.map((item) => item.dataClass));
  const bookings = deliveries.filter((delivery) => delivery.type === "booking.created");
  return {
    classes: DATA_CLASS_NAMES.filter((name) => read.has(name)).map((name) =>
      classFreshness(name, reads, timeline, bounds[name]),
    ),
    bookings: {
      record: visibility(bookings, reads, "record", bounds.gpu, readsEnd),
      listing: visibility(bookings, reads, "listing", bounds.availability, readsEnd),
    },
  };
}
