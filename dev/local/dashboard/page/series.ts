/**
 * What the page draws, derived from the snapshots it polled (oldest first): every snapshot
 * holds totals, so a rate is the difference of two neighbours over the time between them,
 * and a ratio over a window the difference of its ends. A value that cannot be known (a tier
 * unavailable at either end, no requests in the window, a counter that went backwards because
 * a part restarted) is null, which a chart draws as a gap. Pure, so it is tested without a browser.
 */
import {
  type DashboardSnapshot,
  isUnavailable,
  PURGE_PROVIDERS,
  type Unavailable,
  type VarnishTier,
  type WorkerTier,
} from "../snapshot-types";

/** Hit ratios and commands per request are taken over this many seconds of samples. */
export const RATIO_WINDOW_POINTS = 10;

export type Value = number | null;
/** uPlot's aligned data: x (seconds since the epoch) first, then one array per series. */
export type Columns = [number[], ...Value[][]];

export interface ChartSeries {
  readonly labels: readonly string[];
  readonly columns: Columns;
}

function tier<T extends object>(value: T | Unavailable): T | undefined {
  return isUnavailable(value) ? undefined : value;
}

const front = (s: DashboardSnapshot) => tier<VarnishTier>(s.tiers.front);
const worker = (s: DashboardSnapshot) => tier<WorkerTier>(s.tiers.worker);
const back = (s: DashboardSnapshot) => tier<VarnishTier>(s.tiers.back);

type Reading = (snapshot: DashboardSnapshot) => number | undefined;

/** Per second between neighbours; the first sample has no rate. */
function rate(history: readonly DashboardSnapshot[], read: Reading): Value[] {
  return history.map((snapshot, index) => {
    const previous = history[index - 1];
    if (!previous) return null;
    const [from, to] = [read(previous), read(snapshot)];
    const seconds = (snapshot.at - previous.at) / 1000;
    if (from === undefined || to === undefined || to < from || seconds <= 0) return null;
    return (to - from) / seconds;
  });
}

/** `scale` × Δnumerator / Δdenominator over the window ending at each sample. */
function windowRatio(
  history: readonly DashboardSnapshot[],
  numerator: Reading,
  denominator: Reading,
  scale: number,
): Value[] {
  return history.map((snapshot, index) => {
    const start = history[Math.max(0, index - RATIO_WINDOW_POINTS)];
    if (!start || start === snapshot) return null;
    const [n0, n1, d0, d1] = [
      numerator(start),
      numerator(snapshot),
      denominator(start),
      denominator(snapshot),
    ];
    if (n0 === undefined || n1 === undefined || d0 === undefined || d1 === undefined) return null;
    const [dn, dd] = [n1 - n0, d1 - d0];
    if (dd <= 0 || dn < 0) return null;
    return (scale * dn) / dd;
  });
}

function gauge(history: readonly DashboardSnapshot[], read: (s: DashboardSnapshot) => Value): Value[] {
  return history.map(read);
}

const l1Answers: Reading = (s) => {
  const w = worker(s);
  return w && w.l1Hits + w.l1Stale + w.negativeHits;
};
const l2Reads: Reading = (s) => {
  const w = worker(s);
  return w && w.l2Hits + w.l2Misses;
};
const varnishLookups = (read: (s: DashboardSnapshot) => VarnishTier | undefined): Reading => {
  return (s) => {
    const v = read(s);
    return v && v.hits + v.misses;
  };
};

export function chartSeries(
  history: readonly DashboardSnapshot[],
): Record<"requests" | "hitRatio" | "redis" | "events" | "purges", ChartSeries> {
  const xs = history.map((snapshot) => snapshot.at / 1000);
  const lookups: Reading = (s) => worker(s)?.lookups;
  const queuedTotal = (s: DashboardSnapshot, field: "queued" | "deadLettered") =>
    PURGE_PROVIDERS.reduce((sum, provider) => sum + s.purges[provider][field], 0);
  return {
    requests: {
      labels: ["front (Workers Cache)", "Worker", "L2 (Redis reads)", "origin fetches", "back (CloudFront)"],
      columns: [
        xs,
        rate(history, (s) => front(s)?.clientRequests),
        rate(history, lookups),
        rate(history, l2Reads),
        rate(history, (s) => {
          const w = worker(s);
          return w && w.originFetches + w.bypass + w.originErrors;
        }),
        rate(history, (s) => back(s)?.clientRequests),
      ],
    },
    hitRatio: {
      labels: ["front (Workers Cache)", "L1", "L2", "back (CloudFront)"],
      columns: [
        xs,
        windowRatio(history, (s) => front(s)?.hits, varnishLookups(front), 100),
        windowRatio(history, l1Answers, lookups, 100),
        windowRatio(history, (s) => worker(s)?.l2Hits, l2Reads, 100),
        windowRatio(history, (s) => back(s)?.hits, varnishLookups(back), 100),
      ],
    },
    redis: {
      labels: ["bridge commands per 1k Worker requests"],
      columns: [xs, windowRatio(history, (s) => s.redis.commands, lookups, 1000)],
    },
    events: {
      labels: ["applied/s", "propagation p50 (ms)", "propagation p99 (ms)"],
      columns: [
        xs,
        rate(history, (s) => s.events.total.applied),
        gauge(history, (s) => s.events.propagation.p50Ms),
        gauge(history, (s) => s.events.propagation.p99Ms),
      ],
    },
    purges: {
      labels: [...PURGE_PROVIDERS.map((provider) => `${provider} sent`), "queued", "dead-lettered"],
      columns: [
        xs,
        ...PURGE_PROVIDERS.map((provider) => gauge(history, (s) => s.purges[provider].sent)),
        gauge(history, (s) => queuedTotal(s, "queued")),
        gauge(history, (s) => queuedTotal(s, "deadLettered")),
      ],
    },
  };
}

/** Every non-null value of every series (the chart's `data-sum`). */
export function columnsSum(columns: Columns): number {
  let sum = 0;
  for (const column of columns.slice(1) as Value[][]) for (const value of column) sum += value ?? 0;
  return sum;
}

export interface Tiles {
  readonly workerRequests: Value;
  readonly frontHitRatio: Value;
  readonly l1HitRatio: Value;
  readonly redisPer1k: Value;
  readonly eventsApplied: number;
  readonly eventsIgnored: number;
  readonly propagationP50: Value;
  readonly propagationP99: Value;
  readonly purgesSent: number;
  readonly purgesQueued: number;
  readonly purgesDeadLettered: number;
}

const ratio = (part: number, whole: number, scale: number): Value =>
  whole > 0 ? (scale * part) / whole : null;

/** The tiles: totals since start, from the latest snapshot alone. */
export function tiles(snapshot: DashboardSnapshot): Tiles {
  const w = worker(snapshot);
  const f = front(snapshot);
  const sum = (field: "sent" | "queued" | "deadLettered") =>
    PURGE_PROVIDERS.reduce((total, provider) => total + snapshot.purges[provider][field], 0);
  return {
    workerRequests: w ? w.lookups : null,
    frontHitRatio: f ? ratio(f.hits, f.hits + f.misses, 100) : null,
    l1HitRatio: w ? ratio(w.l1Hits + w.l1Stale + w.negativeHits, w.lookups, 100) : null,
    redisPer1k: w ? ratio(snapshot.redis.commands, w.lookups, 1000) : null,
    eventsApplied: snapshot.events.total.applied,
    eventsIgnored: snapshot.events.total.stale + snapshot.events.total.duplicate,
    propagationP50: snapshot.events.propagation.p50Ms,
    propagationP99: snapshot.events.propagation.p99Ms,
    purgesSent: sum("sent"),
    purgesQueued: sum("queued"),
    purgesDeadLettered: sum("deadLettered"),
  };
}

/** One line per part the snapshot could not read. */
export function unavailableNotes(snapshot: DashboardSnapshot): string[] {
  return Object.entries(snapshot.tiers).flatMap(([name, value]) =>
    isUnavailable(value) ? [`${name}: ${value.unavailable}`] : [],
  );
}

export interface ClassRow {
  readonly dataClass: string;
  /** Answers since start. */
  readonly answers: number;
  /** Answers per second over the last RATIO_WINDOW_POINTS samples; null without two samples. */
  readonly perSecond: Value;
  /** Shares of the answers since start, in %: L1 (fresh or stale), L2, origin (cached or passed on). */
  readonly l1: Value;
  readonly l2: Value;
  readonly origin: Value;
}

/** Per data class, from the Worker's answers (empty when its /_cache/stats has none). */
export function classRows(history: readonly DashboardSnapshot[]): ClassRow[] {
  const latest = history.at(-1);
  const byClass = latest && worker(latest)?.byClass;
  if (!latest || !byClass) return [];
  const start = history[Math.max(0, history.length - 1 - RATIO_WINDOW_POINTS)];
  const total = (sources: Readonly<Record<string, number>> | undefined) =>
    sources ? Object.values(sources).reduce((sum, count) => sum + count, 0) : undefined;
  return Object.entries(byClass).map(([dataClass, sources]) => {
    const answers = total(sources) ?? 0;
    const before = start && start !== latest ? total(worker(start)?.byClass?.[dataClass]) : undefined;
    const seconds = start ? (latest.at - start.at) / 1000 : 0;
    const share = (count: number) => ratio(count, answers, 100);
    return {
      dataClass,
      answers,
      perSecond:
        before !== undefined && seconds > 0 && answers >= before ? (answers - before) / seconds : null,
      l1: share((sources.L1 ?? 0) + (sources.STALE ?? 0)),
      l2: share(sources.L2 ?? 0),
      origin: share((sources.ORIGIN ?? 0) + (sources.BYPASS ?? 0)),
    };
  });
}
