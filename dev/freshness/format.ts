/** A run as text, one line per class, for a test's output or a terminal. Pure. */
import type { FreshnessRun } from "./measure";
import type { ClassFreshness, Visibility } from "./summary";

const ms = (value: number) => `${Math.round(value)} ms`;
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** `HIT 91.2% MISS 4.1% …`, largest first. */
export function formatShares(shares: Readonly<Record<string, number>>): string {
  const entries = Object.entries(shares).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? "—" : entries.map(([name, share]) => `${name} ${percent(share)}`).join(" ");
}

export function formatClass(item: ClassFreshness): string {
  return (
    `${item.dataClass}: ${item.reads} reads (${item.errors} failed), ${item.beyondBound} beyond ${ms(item.boundMs)}, ` +
    `${item.staleReads} missing a version; age p50 ${ms(item.ageMs.p50)} p99 ${ms(item.ageMs.p99)} max ${ms(item.ageMs.max)}; ` +
    `front ${formatShares(item.frontStatus)}; Worker (${item.workerAnswered} answered) ${formatShares(item.workerTier)}`
  );
}

function formatVisibility(name: string, item: Visibility): string {
  return (
    `${name}: ${item.shownWithinBound} of ${item.changes} shown within the bound ` +
    `(after p50 ${ms(item.shownAfterMs.p50)}, max ${ms(item.shownAfterMs.max)})`
  );
}

export function formatFreshnessRun(label: string, run: FreshnessRun): string[] {
  const { writer, counters } = run;
  return [
    `[${label}] ${run.readers} readers for ${ms(run.durationMs)}; ${writer.deliveries} deliveries ` +
      `(${writer.events} events) every ${ms(writer.intervalMs)}: ${writer.deliveriesPerSecond.toFixed(1)} deliveries/s, ` +
      `${writer.eventsPerSecond.toFixed(1)} events/s`,
    ...run.classes.map((item) => `[${label}]   ${formatClass(item)}`),
    `[${label}]   bookings ${formatVisibility("on the record", run.bookings.record)}; ${formatVisibility("on the listing", run.bookings.listing)}`,
    `[${label}]   back cache: ${counters.workerOriginFetches ?? "?"} Worker origin fetches ` +
      `(${counters.versionedOriginFetches ?? "?"} versioned), ${counters.originRequests} reached the origin, ` +
      `≥ ${counters.backCacheHitsAtLeast ?? "?"} answered by the back cache`,
  ];
}
