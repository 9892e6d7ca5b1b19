/**
 * Renders `BenchResults` as the compact Markdown summary that goes into the README's
 * "Performance" section. Pure: the same input always gives the same text.
 *
 * Number formats (shared with the SVG chart): req/s and counts as integers with thousands
 * separators, milliseconds with one decimal, ratios with two decimals (two significant digits
 * below 0.01, so a tiny ratio does not print as 0.00×), percentages with two decimals.
 */
import type { BenchResults, FreshnessMode, LoadSummary, PeerResult, Percentiles } from "./results";

const DASH = "—";

function fixed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return DASH;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Integer with thousands separators: `4,600`. */
export function formatInt(value: number): string {
  return fixed(Math.round(value), 0);
}

/** Milliseconds with one decimal: `12.3 ms`. */
export function formatMs(value: number): string {
  return `${fixed(value, 1)} ms`;
}

/** CPU ms the Worker spent per 1,000 requests, or a dash where it was not measured. */
export function formatCpu(load: { readonly workerCpuMsPer1k?: number | undefined }): string {
  return load.workerCpuMsPer1k === undefined ? DASH : `${fixed(load.workerCpuMsPer1k, 0)} ms`;
}

/** A ratio: `0.92×`, or `0.0021×` when two decimals would round it to zero. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return DASH;
  if (value > 0 && value < 0.01) return `${Number(value.toPrecision(2))}×`;
  return `${fixed(value, 2)}×`;
}

/** A 0..1 share as a percentage with two decimals: `98.50%`. */
export function formatPercent(share: number): string {
  return `${fixed(share * 100, 2)}%`;
}

/** Bytes as KiB with one decimal: `38.4 KiB`. */
export function formatKiB(bytes: number): string {
  return `${fixed(bytes / 1024, 1)} KiB`;
}

/** A number of Redis commands per 1,000 requests, one decimal. */
export function formatPer1k(value: number): string {
  return fixed(value, 1);
}

/** Staleness as measured, or a lower bound when the probe gave up first. */
export function formatStaleness(peer: Pick<PeerResult, "stalenessMs" | "stalenessCapped">): string {
  return peer.stalenessCapped
    ? `≥ ${formatInt(peer.stalenessMs)} ms (still stale when the probe stopped)`
    : formatMs(peer.stalenessMs);
}

/** One line describing the machine the suite ran on (also the chart's footer). */
export function describeMachine(results: BenchResults): string {
  const m = results.machine;
  return [
    `${m.cpus} × ${m.cpuModel.trim()}`,
    `${fixed(m.memoryGiB, 1)} GiB`,
    `${m.platform} ${m.arch}`,
    `Node ${m.node}`,
    `redis-server ${m.redisServer}`,
  ].join(", ");
}

/** `HIT 96.9%, EXPIRED 2.6%`: each value's share, largest first. */
export function formatShares(shares: Readonly<Record<string, number>>): string {
  const entries = Object.entries(shares).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  return entries.length === 0
    ? DASH
    : entries.map(([name, share]) => `${name} ${fixed(share * 100, 1)}%`).join(", ");
}

function freshnessRows(label: string, mode: FreshnessMode): string[][] {
  return mode.classes.map((item) => [
    label,
    item.dataClass,
    formatInt(item.reads),
    `${formatInt(item.beyondBound)}${item.errors > 0 ? ` (${formatInt(item.errors)} failed)` : ""}`,
    formatMs(item.boundMs),
    formatMs(item.ageMs.p50),
    formatMs(item.ageMs.p99),
    formatMs(item.ageMs.max),
    formatShares(item.frontStatus),
    `${formatShares(item.workerTier)} (${formatInt(item.workerAnswered)})`,
  ]);
}

function freshnessSection(results: BenchResults): string[] {
  const f = results.freshnessTiers;
  if ("skipped" in f) return [`Not run: ${f.skipped}.`];
  const { fixed: on, beforeFix: off } = f;
  const shown = (mode: FreshnessMode) =>
    `record ${formatInt(mode.bookings.record.shownWithinBound)} of ${formatInt(mode.bookings.record.changes)}, ` +
    `listing ${formatInt(mode.bookings.listing.shownWithinBound)} of ${formatInt(mode.bookings.listing.changes)}`;
  const back = (mode: FreshnessMode) => {
    const c = mode.backCache;
    return (
      `${c.workerOriginFetches === null ? DASH : formatInt(c.workerOriginFetches)} Worker origin fetches ` +
      `(${c.versionedOriginFetches === null ? DASH : formatInt(c.versionedOriginFetches)} versioned), ` +
      `${formatInt(c.originRequests)} reached the origin`
    );
  };
  return [
    ...table(
      [
        "Mode",
        "Class",
        "Reads",
        "Beyond bound",
        "Bound",
        "Age p50",
        "p99",
        "max",
        "Front (CF-Cache-Status)",
        "Worker (X-Cache, n)",
      ],
      ["l", "l", "r", "r", "r", "r", "r", "r", "l", "l"],
      [...freshnessRows("as configured", on), ...freshnessRows("before the fix", off)],
    ),
    "",
    `- Bookings shown through the front within the bound: ${shown(on)} (before the fix: ${shown(off)}).`,
    `- Back cache: ${back(on)} (before the fix: ${back(off)}).`,
    `- Workers Cache purge calls per 1,000 events: ${formatPer1k(f.workersCachePurgeCallsPer1kEvents)} (bookings and price changes name only 1 s classes, which are not purged).`,
  ];
}

/** Makes text safe inside a Markdown table cell (or inline): no pipes, no line breaks. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function table(header: string[], align: ("l" | "r" | "c")[], rows: string[][]): string[] {
  const sep = align.map((a) => (a === "r" ? "--:" : a === "c" ? ":-:" : "---"));
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), `|${sep.join("|")}|`, ...rows.map(line)];
}

function loadWarnings(label: string, loads: [string, LoadSummary][]): string[] {
  const bad = loads.filter(([, l]) => l.non2xx > 0 || l.errors > 0);
  if (bad.length === 0) return [];
  const parts = bad.map(
    ([name, l]) => `${name}: ${formatInt(l.non2xx)} non-2xx, ${formatInt(l.errors)} errors`,
  );
  return ["", `⚠️ ${label}: ${parts.join("; ")}`];
}

export function renderMarkdownSummary(results: BenchResults, options: { chartFile: string }): string {
  const r = results;
  const s = r.settings;
  const out: string[] = [];
  const section = (title: string, ...lines: string[]) => out.push("", title, "", ...lines);

  out.push(
    `**Profile \`${r.profile}\`**, started ${r.startedAt} · ${describeMachine(r)} · ` +
      `${formatInt(s.connections)} connections × ${fixed(s.secondsPerRun, 0)} s per run · ` +
      `\`L1_SYNC_INTERVAL_MS=${s.l1SyncIntervalMs}\``,
  );

  const met = r.targets.filter((t) => t.met).length;
  section(
    `**Targets** (${met} of ${r.targets.length} met)`,
    ...table(
      ["Target", "Goal", "Measured", ""],
      ["l", "r", "r", "c"],
      r.targets.map((t) => [t.name, t.target, t.measured, t.met ? "✅" : "❌"]),
    ),
  );

  const c = r.l1Ceiling;
  section(
    `**1 · L1 ceiling** — \`${cell(c.path)}\`, ${formatInt(c.bodyBytes)} B body, ${formatInt(c.rounds)} rounds; ` +
      `ours / bare = **${formatRatio(r.l1HitVsBareThroughputRatio)}**, ours / bare sending our headers = **${formatRatio(r.l1HitVsBareSameHeadersThroughputRatio)}**`,
    ...table(
      ["Worker", "req/s", "p50", "p99", "Worker CPU / 1k req"],
      ["l", "r", "r", "r", "r"],
      [
        [
          "bare Hono",
          formatInt(c.bare.rps),
          formatMs(c.bare.p50Ms),
          formatMs(c.bare.p99Ms),
          formatCpu(c.bare),
        ],
        [
          "bare Hono sending our headers",
          formatInt(c.bareSameHeaders.rps),
          formatMs(c.bareSameHeaders.p50Ms),
          formatMs(c.bareSameHeaders.p99Ms),
          formatCpu(c.bareSameHeaders),
        ],
        [
          "ours (L1 hit)",
          formatInt(c.ours.rps),
          formatMs(c.ours.p50Ms),
          formatMs(c.ours.p99Ms),
          formatCpu(c.ours),
        ],
      ],
    ),
    ...loadWarnings("failed requests", [
      ["bare", c.bare],
      ["ours", c.ours],
    ]),
  );

  const p = r.peers;
  const pc = r.peerComparison;
  const peerRow = (name: string, x: PeerResult) => [
    name,
    formatInt(x.rps),
    formatMs(x.p99Ms),
    formatPer1k(x.redisCommandsPer1k),
    formatCpu(x.load),
    formatStaleness(x),
  ];
  section(
    `**2 · Peers at the edge** — throughput vs naive **${formatRatio(pc.throughputVsNaive)}**, ` +
      `Redis commands vs naive **${formatRatio(pc.redisCommandsVsNaive)}**; ` +
      `staleness probed on \`${cell(pc.stalenessPath)}\` (peer TTL ${formatInt(pc.peerTtlSeconds)} s)`,
    ...table(
      ["Worker", "req/s", "p99", "Redis cmds / 1k", "Worker CPU / 1k req", "Staleness after update"],
      ["l", "r", "r", "r", "r", "r"],
      [peerRow("naive Upstash GET", p.naive), peerRow("hono/cache", p.honoCache), peerRow("ours", p.ours)],
    ),
    ...loadWarnings("failed requests", [
      ["naive", p.naive.load],
      ["hono/cache", p.honoCache.load],
      ["ours", p.ours.load],
    ]),
  );

  const m = r.mix;
  section(
    `**3 · Realistic mix** — ${formatInt(m.keys)} keys, Zipf s = ${fixed(m.zipfS, 2)}, ` +
      `${formatInt(m.requests)} requests, ${formatInt(m.eventsSent)} events sent ` +
      `(${fixed(m.eventsPerSecond, 1)}/s), ${formatInt(m.staleServed)} stale responses, ${formatInt(m.non2xx)} non-2xx`,
    ...table(
      ["L1 hit", "L2 hit", "Overall", "Redis cmds / 1k", "p50", "p99", "req/s"],
      ["r", "r", "r", "r", "r", "r", "r"],
      [
        [
          formatPercent(m.l1HitRatio),
          formatPercent(m.l2HitRatio),
          formatPercent(m.overallHitRatio),
          formatPer1k(m.redisCommandsPer1k),
          formatMs(m.p50Ms),
          formatMs(m.p99Ms),
          formatInt(m.rps),
        ],
      ],
    ),
  );

  const pm = r.propagationMs;
  const stage = (name: string, x: Percentiles) => [
    name,
    formatMs(x.p50),
    formatMs(x.p99),
    formatMs(x.max),
    formatInt(x.count),
  ];
  section(
    `**4 · Propagation** — ${formatInt(r.propagation.events)} events, ${formatInt(r.propagation.inFlight)} in flight ` +
      `at a time, CloudFront purges ${r.propagation.cloudfrontMode}`,
    ...table(
      ["Stage", "p50", "p99", "max", "n"],
      ["l", "r", "r", "r", "r"],
      [
        stage("Redis", pm.redis),
        stage("Edge (L1 sync)", pm.edge),
        stage("Cloudflare purge", pm.cloudflarePurge),
        stage("CloudFront purge", pm.cloudfrontPurge),
      ],
    ),
  );

  const e = r.events;
  section(
    "**5 · Event throughput**",
    ...table(
      ["Mode", "Events", "events/s", "Redis round trips / event"],
      ["l", "r", "r", "r"],
      [
        [
          "single",
          formatInt(e.single.events),
          formatInt(e.single.eventsPerSecond),
          fixed(e.single.roundTripsPerEvent, 2),
        ],
        [
          `batched (${formatInt(e.batched.batchSize)} per batch)`,
          formatInt(e.batched.events),
          formatInt(e.batched.eventsPerSecond),
          fixed(e.batched.roundTripsPerEvent, 2),
        ],
      ],
    ),
  );

  const b = r.engineVsBentocache;
  section(
    "**6 · Engine vs bentocache (Node)**",
    ...table(
      ["Read", "ours ops/s", "bentocache ops/s", "ours / bentocache"],
      ["l", "r", "r", "r"],
      [
        [
          "L1 hit",
          formatInt(b.ours.l1HitOpsPerSec),
          formatInt(b.bentocache.l1HitOpsPerSec),
          formatRatio(b.l1HitRatio),
        ],
        [
          "L2 hit",
          formatInt(b.ours.l2HitOpsPerSec),
          formatInt(b.bentocache.l2HitOpsPerSec),
          formatRatio(b.l2HitRatio),
        ],
      ],
    ),
  );
  if (b.notes.length > 0) out.push("", ...b.notes.map((n) => `- ${n.replace(/\r?\n/g, " ")}`));

  const z = r.bundle;
  section(
    "**7 · Sizes**",
    ...table(
      ["Artifact", "Raw", "gzip"],
      ["l", "r", "r"],
      [
        ["Worker bundle", formatKiB(z.workerBytes), formatKiB(z.workerGzipBytes)],
        ["Event Lambda bundle", formatKiB(z.lambdaBytes), formatKiB(z.lambdaGzipBytes)],
      ],
    ),
    "",
    `L1 memory per 1,000 GPU records: ${formatKiB(r.l1BytesPer1kEntries)} counted against \`L1_MAX_BYTES\`, ${formatKiB(r.l1HeapBytesPer1kEntries)} of heap measured.`,
  );

  const fr = r.freshnessTiers;
  section(
    "skipped" in fr
      ? "**8 · Freshness through every tier**"
      : `**8 · Freshness through every tier** — ${formatInt(fr.fixed.readers)} readers through the front cache for ` +
          `${fixed(fr.fixed.durationSeconds, Number.isInteger(fr.fixed.durationSeconds) ? 0 : 1)} s per mode, one booking, cancellation or price change every ` +
          `${formatInt(fr.fixed.eventIntervalMs)} ms (${fixed(fr.fixed.deliveriesPerSecond, 1)} deliveries/s, ` +
          `${fixed(fr.fixed.eventsPerSecond, 1)} events/s with their market stats); bound = front TTL + ` +
          `\`L1_SYNC_INTERVAL_MS\` (${formatInt(fr.syncIntervalMs)} ms) + ${formatInt(fr.marginMs)} ms; ` +
          `"before the fix" is \`ORIGIN_VERSION_PARAM=""\``,
    ...freshnessSection(r),
  );

  // A destination with spaces or parentheses needs the <...> form.
  const chart = /[\s()<>]/.test(options.chartFile)
    ? `<${options.chartFile.replace(/[<>]/g, encodeURIComponent)}>`
    : options.chartFile;
  out.push("", `![benchmark chart](${chart})`, "");
  return out.join("\n");
}
