/**
 * Renders `BenchResults` as one self-contained SVG chart (960×640, 2×2 panels): throughput at
 * the edge, staleness after an update, propagation per stage, and the mix's hit ratio / Redis
 * cost / origin fetches with the engine-vs-bentocache ratios. No fonts, scripts, ids or clocks: the same input
 * always gives the same bytes.
 */

import { escapeXml } from "../../dev/support/escape-xml";
import {
  describeMachine,
  formatInt,
  formatPer1k,
  formatPercent,
  formatRatio,
  formatStaleness,
  formatUsd,
} from "./report-markdown";
import type { BenchResults, Percentiles } from "./results";

const WIDTH = 960;
const HEIGHT = 640;
const FONT = "system-ui, sans-serif";

const COLOR = {
  text: "#1f2937",
  muted: "#6b7280",
  grid: "#e5e7eb",
  panel: "#f9fafb",
  border: "#d1d5db",
  ours: "#0f766e",
  bare: "#64748b",
  honoCache: "#d97706",
  naive: "#9ca3af",
  target: "#dc2626",
  p50: "#93c5fd",
  p99: "#1d4ed8",
  l1: "#0f766e",
  l2: "#5eead4",
  origin: "#f59e0b",
  below: "#d97706",
} as const;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A finite, non-negative coordinate/size, rounded to 0.1 px. */
function px(value: number): number {
  const v = Number.isFinite(value) ? value : 0;
  return Math.round(v * 10) / 10;
}

function size(value: number): number {
  return Math.max(0, px(value));
}

function fixed2(value: number): string {
  return (Math.round(finite(value) * 100) / 100).toFixed(2);
}

function finite(value: number): number {
  return Number.isFinite(value) ? Math.max(0, value) : 0;
}

/** Rough rendered width of `text` at `fontSize` (average system-ui glyph ≈ 0.55 em). */
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.55;
}

/** Truncates text to roughly `maxWidth` px at `fontSize`. */
function clip(text: string, maxWidth: number, fontSize: number): string {
  const maxChars = Math.max(1, Math.floor(maxWidth / (fontSize * 0.55)));
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

interface TextOptions {
  size?: number;
  weight?: "normal" | "bold";
  anchor?: "start" | "middle" | "end";
  fill?: string;
  /** White outline so the label stays legible over lines and bars. */
  halo?: boolean;
}

function text(x: number, y: number, content: string, o: TextOptions = {}): string {
  const attrs = [`x="${px(x)}"`, `y="${px(y)}"`, `font-size="${o.size ?? 12}"`];
  if (o.weight === "bold") attrs.push('font-weight="bold"');
  if (o.anchor && o.anchor !== "start") attrs.push(`text-anchor="${o.anchor}"`);
  attrs.push(`fill="${o.fill ?? COLOR.text}"`);
  if (o.halo) attrs.push('stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"');
  return `<text ${attrs.join(" ")}>${escapeXml(content)}</text>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string, extra = ""): string {
  return `<rect x="${px(x)}" y="${px(y)}" width="${size(w)}" height="${size(h)}" fill="${fill}"${extra ? ` ${extra}` : ""}/>`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ""): string {
  return `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" stroke="${stroke}"${extra ? ` ${extra}` : ""}/>`;
}

function panelFrame(box: Box, title: string): string[] {
  return [
    rect(box.x, box.y, box.w, box.h, COLOR.panel, `stroke="${COLOR.border}" rx="8"`),
    text(box.x + 14, box.y + 24, clip(title, box.w - 28, 14), { size: 14, weight: "bold" }),
  ];
}

/** Compact chart number: `3.1`, `560`, `1,200`, `99k`, `1.2M`. */
function compact(value: number): string {
  const v = finite(value);
  if (v < 10) return (Math.round(v * 10) / 10).toFixed(1);
  if (v < 10_000) return formatInt(v);
  if (v < 1_000_000) return `${formatInt(v / 1000)}k`;
  return `${Number((v / 1_000_000).toPrecision(3))}M`;
}

interface Bar {
  label: string;
  value: number;
  valueLabel: string;
  color: string;
}

/** Horizontal bars with a label column on the left and the value at each bar's end. */
function horizontalBars(
  area: Box,
  bars: Bar[],
  opts: { labelWidth: number; valueWidth: number; scaleMax: number; barHeight?: number },
): { parts: string[]; xOf: (v: number) => number } {
  const x0 = area.x + opts.labelWidth;
  const plotW = Math.max(1, area.w - opts.labelWidth - opts.valueWidth);
  const max = opts.scaleMax > 0 ? opts.scaleMax : 1;
  const xOf = (v: number) => x0 + (Math.min(finite(v), max) / max) * plotW;
  const rowH = area.h / Math.max(1, bars.length);
  const barH = Math.min(opts.barHeight ?? 26, rowH * 0.7);
  const parts: string[] = [line(x0, area.y, x0, area.y + area.h, COLOR.border)];
  bars.forEach((bar, i) => {
    const cy = area.y + rowH * i + rowH / 2;
    const end = xOf(bar.value);
    parts.push(
      text(x0 - 8, cy + 4, clip(bar.label, opts.labelWidth - 10, 12), { anchor: "end" }),
      rect(x0, cy - barH / 2, end - x0, barH, bar.color, 'rx="2"'),
      text(end + 6, cy + 4, bar.valueLabel, { size: 12, weight: "bold", halo: true }),
    );
  });
  return { parts, xOf };
}

function throughputPanel(r: BenchResults, box: Box): string[] {
  const bars: Bar[] = [
    { label: "bare Hono", value: r.l1Ceiling.bare.rps, color: COLOR.bare },
    { label: "ours (L1 hit)", value: r.l1Ceiling.ours.rps, color: COLOR.ours },
    { label: "hono/cache", value: r.peers.honoCache.rps, color: COLOR.honoCache },
    { label: "naive Upstash GET", value: r.peers.naive.rps, color: COLOR.naive },
  ].map((b) => ({ ...b, valueLabel: formatInt(finite(b.value)) }));
  const max = Math.max(...bars.map((b) => finite(b.value)));
  const area = { x: box.x + 14, y: box.y + 40, w: box.w - 28, h: box.h - 76 };
  const { parts } = horizontalBars(area, bars, { labelWidth: 130, valueWidth: 64, scaleMax: max });
  return [
    ...panelFrame(box, "Throughput at the edge (req/s)"),
    ...parts,
    text(
      box.x + 14,
      box.y + box.h - 14,
      `ours ÷ bare ${formatRatio(r.l1HitVsBareThroughputRatio)} · ours ÷ naive ${formatRatio(r.peerComparison.throughputVsNaive)} · bare/ours: L1 ceiling run, others: peers run`,
      { size: 10, fill: COLOR.muted },
    ),
  ];
}

function stalenessPanel(r: BenchResults, box: Box): string[] {
  const target = finite(r.settings.l1SyncIntervalMs + 100);
  const peers = [
    { label: "ours", peer: r.peers.ours, color: COLOR.ours },
    { label: "hono/cache", peer: r.peers.honoCache, color: COLOR.honoCache },
    { label: "naive Upstash GET", peer: r.peers.naive, color: COLOR.naive },
  ];
  const bars: Bar[] = peers.map(({ label, peer, color }) => ({
    label,
    value: peer.stalenessMs,
    color,
    valueLabel: `${peer.stalenessCapped ? "≥ " : ""}${formatInt(finite(peer.stalenessMs))} ms`,
  }));
  const max = Math.max(target, ...bars.map((b) => finite(b.value))) * 1.04;
  const area = { x: box.x + 14, y: box.y + 56, w: box.w - 28, h: box.h - 92 };
  const valueWidth = 84;
  const { parts, xOf } = horizontalBars(area, bars, { labelWidth: 130, valueWidth, scaleMax: max });
  const tx = xOf(target);
  const label = `target ${formatInt(target)} ms`;
  const labelHalf = textWidth(label, 11) / 2;
  const labelX = Math.min(Math.max(tx, area.x + 130 + labelHalf), area.x + area.w - labelHalf);
  const capped = peers.some((p) => p.peer.stalenessCapped);
  const caption = capped
    ? "≥ = still stale when the probe stopped (the probe's limit is shown)"
    : `webhook → new body served · target = L1 sync + 100 ms · peer TTL ${formatInt(r.peerComparison.peerTtlSeconds)} s`;
  return [
    ...panelFrame(box, "Staleness after an update (ms)"),
    ...parts,
    line(tx, area.y - 4, tx, area.y + area.h, COLOR.target, 'stroke-width="1.5" stroke-dasharray="5 4"'),
    text(labelX, area.y - 8, label, { size: 11, anchor: "middle", fill: COLOR.target, weight: "bold" }),
    text(box.x + 14, box.y + box.h - 14, clip(caption, box.w - 28, 10), { size: 10, fill: COLOR.muted }),
  ];
}

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10;
  return nice * magnitude;
}

function propagationPanel(r: BenchResults, box: Box): string[] {
  const stages: [string, Percentiles][] = [
    ["Redis", r.propagationMs.redis],
    ["edge", r.propagationMs.edge],
    ["Cloudflare purge", r.propagationMs.cloudflarePurge],
    ["CloudFront purge", r.propagationMs.cloudfrontPurge],
  ];
  const values = stages.flatMap(([, p]) => [finite(p.p50), finite(p.p99)]);
  const max = Math.max(...values);
  const positive = values.filter((v) => v > 0);
  const minPositive = positive.length > 0 ? Math.min(...positive) : 0;
  const useLog = minPositive > 0 && max / minPositive > 100;

  const plot = { x: box.x + 54, y: box.y + 62, w: box.w - 68, h: box.h - 100 };
  const bottom = plot.y + plot.h;
  let scale: (v: number) => number;
  let ticks: number[];
  if (useLog) {
    // Symmetric-log-ish: log10(1 + v), so 0 stays at the baseline; 10% headroom above the max.
    const f = (v: number) => Math.log10(1 + finite(v));
    const top = f(max) * 1.1;
    scale = (v) => (Math.min(f(v), top) / top) * plot.h;
    ticks = [0];
    for (let t = 10; f(t) <= top; t *= 10) ticks.push(t);
  } else {
    const step = max > 0 ? niceStep(max, 4) : 1;
    const top = max > 0 ? Math.ceil(max / step) * step : 1;
    scale = (v) => (Math.min(finite(v), top) / top) * plot.h;
    ticks = [];
    for (let i = 0; i * step <= top + step / 1e6; i++) ticks.push(i * step);
  }

  const parts: string[] = [...panelFrame(box, "Propagation (ms), p50 and p99")];
  // Legend (top right) and scale note.
  const lx = box.x + box.w - 124;
  parts.push(
    rect(lx, box.y + 14, 12, 12, COLOR.p50),
    text(lx + 16, box.y + 24, "p50", { size: 11 }),
    rect(lx + 50, box.y + 14, 12, 12, COLOR.p99),
    text(lx + 66, box.y + 24, "p99", { size: 11 }),
  );
  const note = `${formatInt(r.propagation.events)} events · CloudFront purges ${r.propagation.cloudfrontMode}`;
  parts.push(
    text(box.x + 14, box.y + 42, `${note}${useLog ? " · log scale" : ""}`, { size: 10, fill: COLOR.muted }),
  );

  for (const t of ticks) {
    const y = bottom - scale(t);
    parts.push(
      line(plot.x, y, plot.x + plot.w, y, COLOR.grid),
      text(plot.x - 6, y + 3.5, compact(t).replace(/\.0$/, ""), {
        size: 10,
        anchor: "end",
        fill: COLOR.muted,
      }),
    );
  }
  parts.push(line(plot.x, bottom, plot.x + plot.w, bottom, COLOR.border));

  const groupW = plot.w / stages.length;
  const barW = Math.min(36, groupW * 0.36);
  const gap = 4;
  stages.forEach(([name, p], i) => {
    const cx = plot.x + groupW * i + groupW / 2;
    const series: [number, string, number][] = [
      [p.p50, COLOR.p50, cx - gap / 2 - barW],
      [p.p99, COLOR.p99, cx + gap / 2],
    ];
    for (const [v, color, x] of series) {
      const h = scale(v);
      parts.push(
        rect(x, bottom - h, barW, h, color),
        text(x + barW / 2, bottom - h - 4, compact(v), { size: 10, anchor: "middle", halo: true }),
      );
    }
    // Stage names that do not fit on one line wrap at their last space.
    const space = name.lastIndexOf(" ");
    const lines =
      textWidth(name, 11) > groupW - 4 && space > 0 ? [name.slice(0, space), name.slice(space + 1)] : [name];
    lines.forEach((l, j) => {
      parts.push(text(cx, bottom + 15 + j * 13, clip(l, groupW - 4, 11), { size: 11, anchor: "middle" }));
    });
  });
  return parts;
}

function mixPanel(r: BenchResults, box: Box): string[] {
  const m = r.mix;
  const clamp01 = (v: number) => Math.min(1, finite(v));
  const l1 = clamp01(m.l1HitRatio);
  const l2 = Math.min(clamp01(m.l2HitRatio), 1 - l1);
  const origin = Math.min(Math.max(0, 1 - clamp01(m.overallHitRatio)), 1 - l1 - l2);

  const parts: string[] = [...panelFrame(box, "Hit ratio and Redis cost (mix)")];
  const bar = { x: box.x + 14, y: box.y + 40, w: box.w - 28, h: 24 };
  parts.push(rect(bar.x, bar.y, bar.w, bar.h, "#ffffff", `stroke="${COLOR.border}"`));
  let x = bar.x;
  const segments: [string, number, string][] = [
    ["L1", l1, COLOR.l1],
    ["L2", l2, COLOR.l2],
    ["origin", origin, COLOR.origin],
  ];
  for (const [, share, color] of segments) {
    const w = share * bar.w;
    parts.push(rect(x, bar.y, w, bar.h, color));
    x += w;
  }
  segments.forEach(([name, share, color], i) => {
    const lx = bar.x + i * 140;
    const ly = bar.y + bar.h + 20;
    parts.push(
      rect(lx, ly - 10, 12, 12, color),
      text(lx + 17, ly, `${name} ${formatPercent(share)}`, { size: 12 }),
    );
  });
  parts.push(
    text(
      bar.x,
      bar.y + bar.h + 46,
      `Redis commands per 1,000 requests: ${formatPer1k(m.redisCommandsPer1k)}`,
      { size: 13, weight: "bold" },
    ),
    text(
      bar.x,
      bar.y + bar.h + 62,
      clip(
        `origin fetches per 1,000: ${fixed2(m.originFetchesPer1k)} · ${formatUsd(m.redisUsdPerMillionRequests)} / M req · Redis ${formatInt(m.redisDelayMs)} ms away`,
        box.w - 28,
        11,
      ),
      { size: 11, fill: COLOR.muted },
    ),
    line(box.x + 14, box.y + 136, box.x + box.w - 14, box.y + 136, COLOR.grid),
    text(box.x + 14, box.y + 158, "Engine vs bentocache in Node (ours ÷ bentocache ops/s)", {
      size: 12,
      weight: "bold",
    }),
  );

  const e = r.engineVsBentocache;
  const ratios: Bar[] = [
    { label: "L1 hit", value: e.l1HitRatio },
    { label: "L2 hit", value: e.l2HitRatio },
  ].map((b) => ({
    ...b,
    color: finite(b.value) >= 1 ? COLOR.ours : COLOR.below,
    valueLabel: formatRatio(finite(b.value)),
  }));
  const scaleMax = Math.max(1.25, ...ratios.map((b) => finite(b.value))) * 1.05;
  const area = { x: box.x + 14, y: box.y + 182, w: box.w - 28, h: 64 };
  const { parts: barParts, xOf } = horizontalBars(area, ratios, {
    labelWidth: 64,
    valueWidth: 60,
    scaleMax,
    barHeight: 20,
  });
  const one = xOf(1);
  parts.push(
    ...barParts,
    line(one, area.y - 6, one, area.y + area.h, COLOR.text, 'stroke-width="1.5" stroke-dasharray="4 3"'),
    text(one, area.y - 9, "1.0× (parity)", { size: 10, anchor: "middle", fill: COLOR.muted }),
  );
  return parts;
}

export function renderChartSvg(results: BenchResults): string {
  const r = results;
  const margin = 16;
  const gap = 16;
  const top = 50;
  const bottomSpace = 34;
  const w = (WIDTH - 2 * margin - gap) / 2;
  const h = (HEIGHT - top - bottomSpace - gap) / 2;
  const box = (col: number, row: number): Box => ({
    x: margin + col * (w + gap),
    y: top + row * (h + gap),
    w,
    h,
  });

  const date = r.startedAt.slice(0, 10);
  const title = `Edge cache benchmark — ${r.profile} profile, ${date}`;
  const s = r.settings;
  const footer =
    `${describeMachine(r)} · ${formatInt(s.connections)} connections × ${formatInt(s.secondsPerRun)} s per run` +
    ` · L1 sync ${formatInt(s.l1SyncIntervalMs)} ms`;
  const met = r.targets.filter((t) => t.met).length;
  const stalenessOurs = formatStaleness(r.peers.ours).replace(/ \(.*\)$/, "");

  const summary = `targets met: ${met} / ${r.targets.length} · ours staleness ${stalenessOurs}`;
  const titleRoom = WIDTH - 2 * margin - textWidth(summary, 12) - 24;

  const body = [
    rect(0, 0, WIDTH, HEIGHT, "#ffffff"),
    text(margin, 32, clip(title, titleRoom / 1.1, 20), { size: 20, weight: "bold" }),
    text(WIDTH - margin, 32, summary, {
      size: 12,
      anchor: "end",
      fill: met === r.targets.length ? COLOR.ours : COLOR.target,
    }),
    ...throughputPanel(r, box(0, 0)),
    ...stalenessPanel(r, box(1, 0)),
    ...propagationPanel(r, box(0, 1)),
    ...mixPanel(r, box(1, 1)),
    text(margin, HEIGHT - 12, clip(footer, WIDTH - 2 * margin, 11), { size: 11, fill: COLOR.muted }),
  ];

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="${FONT}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    ...body.map((part) => `  ${part}`),
    "</svg>",
    "",
  ].join("\n");
}
