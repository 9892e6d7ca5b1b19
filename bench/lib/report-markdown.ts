/**
 * Renders `BenchResults` as the compact Markdown summary that goes into the README's
 * "Performance" section. Pure: the same input always gives the same text.
 *
 * Number formats (shared with the SVG chart): req/s and counts as integers with thousands
 * separators, milliseconds with one decimal, ratios with two decimals (two significant digits
 * below 0.01, so a tiny ratio does not print as 0.00×), percentages with two decimals.
 */
import { BODY_SIZE_BUCKET_NAMES } from "./body-size";
import {
  redisUsdPerMillionRequests,
  UPSTASH_PAYG_USD_PER_GB_BEYOND_FREE,
  WORKERS_USD_PER_MILLION_CPU_MS,
} from "./pricing";
import type {
  BenchResults,
  DistanceComparison,
  FreshnessMode,
  LoadSummary,
  MixResult,
  PeerLoad,
  PeerResult,
  Percentiles,
} from "./results";

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

/** Milliseconds measured to the microsecond, two decimals: `0.62 ms`. */
export function formatMsFine(value: number): string {
  return `${fixed(value, 2)} ms`;
}

/** US dollars: two decimals from 1 up (`USD 2.00`), two significant digits below (`USD 0.049`, `USD 0.0012`). */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value)) return DASH;
  if (value > 0 && value < 1e-6) return "< USD 0.000001";
  if (value > 0 && value < 1) return `USD ${value.toPrecision(2)}`;
  return `USD ${fixed(value, 2)}`;
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

function compressionSection(results: BenchResults): string[] {
  const c = results.compression;
  const share = (after: number, before: number) => (before > 0 ? formatPercent(after / before) : DASH);
  const us = (value: number) => `${fixed(value, 0)} µs`;
  const rows = BODY_SIZE_BUCKET_NAMES.map((name) => {
    const b = c.buckets.find((item) => item.bucket === name);
    if (!b || b.bodies === 0) return [name, "0", DASH, DASH, DASH, DASH, DASH, DASH, DASH, DASH];
    return [
      name,
      formatInt(b.bodies),
      formatInt(b.bytes / b.bodies),
      share(b.gzipBytes, b.bytes),
      share(b.deflateRawBytes, b.bytes),
      `${us(b.gzip.compressUs)} / ${us(b.gzip.decompressUs)}`,
      `${us(b.deflateRaw.compressUs)} / ${us(b.deflateRaw.decompressUs)}`,
      `${us(b.zlibGzip.compressUs)} / ${us(b.zlibGzip.decompressUs)}`,
      formatInt(b.timedBodies),
      formatInt(b.bytes),
    ];
  });
  const l2 = c.mixL2;
  // Billed gigabytes are decimal.
  const perMillion = (bytesPer1k: number) => (bytesPer1k * 1000) / 1e9;
  const estimates = l2.estimates.map((e) => {
    const savedGb = perMillion(l2.bytesPer1k - e.bytesPer1k);
    return [
      e.format,
      `≥ ${formatKiB(e.thresholdBytes)}`,
      formatKiB(e.bytesPer1k),
      formatPercent(e.savedShare),
      `${fixed(e.cpuMsPer1k, 2)} ms`,
      formatUsd(savedGb * UPSTASH_PAYG_USD_PER_GB_BEYOND_FREE),
      formatUsd(e.cpuMsPer1k * 1000 * (WORKERS_USD_PER_MILLION_CPU_MS / 1_000_000)),
    ];
  });
  return [
    ...table(
      [
        "Body size",
        "Bodies",
        "Mean B",
        "gzip size",
        "deflate-raw size",
        "gzip µs compress / decompress",
        "deflate-raw µs",
        "node:zlib gzip µs (floor)",
        "timed",
        "Bytes",
      ],
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
      rows,
    ),
    "",
    `In the mix (Redis ${formatInt(l2.redisDelayMs)} ms away): ${fixed(l2.valueReadsPer1k, 1)} L2 values read and ` +
      `${fixed(l2.valueWritesPer1k, 1)} written per 1,000 requests (our engine's /_cache/stats), sized like the answers that ` +
      `came out of L2 or went into it (X-Cache L2, ORIGIN, STALE): ${formatKiB(l2.bytesPer1k)} of values per 1,000 requests uncompressed. ` +
      "Compressed values counted as base64 text (the REST API carries JSON strings); the Worker's CPU from the CompressionStream times above (an upper bound: workerd's is native, nearer the node:zlib floor).",
    "",
    ...table(
      [
        "Format",
        "Compress",
        "L2 bytes / 1k req",
        "Saved",
        "Worker CPU / 1k req",
        "Bandwidth saved / M req",
        "CPU cost / M req",
      ],
      ["l", "l", "r", "r", "r", "r", "r"],
      estimates,
    ),
    "",
    `Bandwidth at Upstash's USD ${UPSTASH_PAYG_USD_PER_GB_BEYOND_FREE}/GB beyond the first 200 GB a month (pay-as-you-go); ` +
      `CPU at Workers' USD ${WORKERS_USD_PER_MILLION_CPU_MS} per million CPU-ms. Commands, which Upstash bills per request, do not change: ` +
      `the mix's cost ${formatUsd(results.mix.redisUsdPerMillionRequests)} per million requests either way.`,
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

  const far = r.peersAtRedisDelay;
  const farRow = (name: string, x: PeerLoad) => [
    name,
    formatInt(x.rps),
    formatMs(x.p50Ms),
    formatMs(x.p99Ms),
    formatPer1k(x.redisCommandsPer1k),
    formatUsd(redisUsdPerMillionRequests(x.redisCommandsPer1k)),
    formatCpu(x.load),
  ];
  const distanceRow = (x: DistanceComparison, naive: PeerLoad, ours: PeerLoad) => [
    x.redisDelayMs === 0 ? "loopback" : `${formatInt(x.redisDelayMs)} ms`,
    `${formatInt(ours.rps)} / ${formatInt(naive.rps)}`,
    formatRatio(x.throughputVsNaive),
    formatRatio(x.underLoad.p50VsNaive),
    formatRatio(x.underLoad.p99VsNaive),
    `${formatMsFine(x.oneAtATime.ours.p50)} / ${formatMsFine(x.oneAtATime.naive.p50)}`,
    formatRatio(x.oneAtATime.p50VsNaive),
    formatRatio(x.oneAtATime.p99VsNaive),
  ];
  const lv = r.latencyVsNaive;
  out.push(
    "",
    `Ours ÷ naive with the Workers' Redis on loopback and ${formatInt(s.redisDelayMs)} ms away per request (one round trip to Upstash from the edge). ` +
      "Under load the Workers are saturated, so p50 there is mostly the queue (connections ÷ throughput); " +
      "one at a time is one request after another on one connection, timed to the microsecond.",
    "",
    ...table(
      [
        "Redis",
        "req/s ours / naive",
        "throughput",
        "p50 under load",
        "p99 under load",
        "p50 one at a time, ours / naive",
        "p50",
        "p99",
      ],
      ["l", "r", "r", "r", "r", "r", "r", "r"],
      [distanceRow(lv.loopback, p.naive, p.ours), distanceRow(lv.distant, far.naive, far.ours)],
    ),
    "",
    `The peers with Redis ${formatInt(s.redisDelayMs)} ms away (Redis cost at Upstash's pay-as-you-go price):`,
    "",
    ...table(
      ["Worker", "req/s", "p50", "p99", "Redis cmds / 1k", "Redis / M req", "Worker CPU / 1k req"],
      ["l", "r", "r", "r", "r", "r", "r"],
      [farRow("naive Upstash GET", far.naive), farRow("hono/cache", far.honoCache), farRow("ours", far.ours)],
    ),
    ...loadWarnings("failed requests", [
      ["naive", far.naive.load],
      ["hono/cache", far.honoCache.load],
      ["ours", far.ours.load],
    ]),
  );

  const m = r.mix;
  const distance = (x: MixResult) => (x.redisDelayMs === 0 ? "loopback" : `${formatInt(x.redisDelayMs)} ms`);
  const mixRow = (x: MixResult) => [
    distance(x),
    formatInt(x.requests),
    formatPercent(x.l1HitRatio),
    formatPercent(x.l2HitRatio),
    formatPercent(x.overallHitRatio),
    formatPer1k(x.redisCommandsPer1k),
    formatUsd(x.redisUsdPerMillionRequests),
    fixed(x.originFetchesPer1k, 2),
    formatMs(x.p50Ms),
    formatMs(x.p99Ms),
    formatInt(x.rps),
    `${formatInt(x.eventsSent)} (${fixed(x.eventsPerSecond, 1)}/s)`,
    formatInt(x.staleServed),
  ];
  section(
    `**3 · Realistic mix** — ${formatInt(m.keys)} keys, Zipf s = ${fixed(m.zipfS, 2)}; the targets hold the run ` +
      `with Redis ${distance(m)}${m.redisDelayMs === 0 ? "" : " away"}; ${formatInt(m.non2xx + r.mixLoopback.non2xx)} non-2xx`,
    ...table(
      [
        "Redis",
        "Requests",
        "L1 hit",
        "L2 hit",
        "Overall",
        "Redis cmds / 1k",
        "Redis / M req",
        "Origin fetches / 1k",
        "p50",
        "p99",
        "req/s",
        "Events sent",
        "Stale",
      ],
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
      [mixRow(r.mixLoopback), mixRow(m)],
    ),
    "",
    `Redis / M req is the commands at Upstash's pay-as-you-go list price (USD 0.20 per 100,000 commands); origin fetches are the public GETs the sample origin counted during the run.`,
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

  section(
    `**9 · Compression of L2 values** (measured, not implemented) — ${formatInt(r.compression.bodies)} bodies of the mix's keys, ` +
      `${cell(r.compression.runtime)}, CPU per body the median of ${formatInt(r.compression.runsPerBody)} runs`,
    ...compressionSection(r),
  );

  // A destination with spaces or parentheses needs the <...> form.
  const chart = /[\s()<>]/.test(options.chartFile)
    ? `<${options.chartFile.replace(/[<>]/g, encodeURIComponent)}>`
    : options.chartFile;
  out.push("", `![benchmark chart](${chart})`, "");
  return out.join("\n");
}
