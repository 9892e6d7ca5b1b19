/**
 * The dashboard page: polls `/api/snapshot` once a second, keeps the last MAX_POINTS
 * snapshots, and redraws the tiles, the tables and five uPlot charts from them (series.ts
 * derives every number). Bundled by the dashboard server with esbuild (dev/local/dashboard/server.ts);
 * the element ids are in element-ids.ts.
 */
import uPlot from "uplot";
import type { DashboardSnapshot } from "../snapshot-types";
import { PURGE_PROVIDERS } from "../snapshot-types";
import {
  CHART_IDS,
  CLASSES_TABLE_ID,
  EVENTS_TABLE_ID,
  MAX_POINTS,
  NOTES_ID,
  POLL_INTERVAL_MS,
  PURGES_TABLE_ID,
  STATUS_ID,
  TILE_IDS,
} from "./element-ids";
import {
  type ChartSeries,
  chartSeries,
  classRows,
  columnsSum,
  type Tiles,
  tiles,
  unavailableNotes,
} from "./series";

/** One colour per series position, the same in every chart. */
const COLOURS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed"];
const CHART_HEIGHT = 180;
const X_TICK_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300];

type ChartName = keyof typeof CHART_IDS;

/** The polled snapshots, oldest first, at most MAX_POINTS. */
const history: DashboardSnapshot[] = [];
let polls = 0;

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

const formatNumber = (value: number | null, digits = 0, unit = "") =>
  value === null
    ? "–"
    : `${value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })}${unit}`;

function setTile(id: string, value: number | null, text: string): void {
  const tile = element(id);
  tile.dataset.value = value === null ? "" : String(value);
  const valueElement = tile.querySelector(".value");
  if (valueElement) valueElement.textContent = text;
}

function drawTiles(values: Tiles): void {
  setTile(TILE_IDS.workerRequests, values.workerRequests, formatNumber(values.workerRequests));
  setTile(TILE_IDS.frontHitRatio, values.frontHitRatio, formatNumber(values.frontHitRatio, 1, " %"));
  setTile(TILE_IDS.l1HitRatio, values.l1HitRatio, formatNumber(values.l1HitRatio, 1, " %"));
  setTile(TILE_IDS.redisPer1k, values.redisPer1k, formatNumber(values.redisPer1k));
  setTile(TILE_IDS.eventsApplied, values.eventsApplied, formatNumber(values.eventsApplied));
  setTile(TILE_IDS.eventsIgnored, values.eventsIgnored, formatNumber(values.eventsIgnored));
  setTile(
    TILE_IDS.propagation,
    values.propagationP99,
    `${formatNumber(values.propagationP50)} / ${formatNumber(values.propagationP99)} ms`,
  );
  setTile(TILE_IDS.purgesSent, values.purgesSent, formatNumber(values.purgesSent));
  setTile(TILE_IDS.purgesQueued, values.purgesQueued, formatNumber(values.purgesQueued));
  setTile(TILE_IDS.purgesDeadLettered, values.purgesDeadLettered, formatNumber(values.purgesDeadLettered));
}

function fillRows(id: string, rows: ReadonlyArray<readonly string[]>): void {
  element(id).replaceChildren(
    ...rows.map((cells) => {
      const row = document.createElement("tr");
      row.append(
        ...cells.map((text) => {
          const cell = document.createElement("td");
          cell.textContent = text;
          return cell;
        }),
      );
      return row;
    }),
  );
}

function drawTables(snapshot: DashboardSnapshot): void {
  const classes = classRows(history);
  fillRows(
    CLASSES_TABLE_ID,
    classes.length === 0
      ? [["not reported by the Worker", "", "", "", "", ""]]
      : classes.map((row) => [
          row.dataClass,
          formatNumber(row.answers),
          formatNumber(row.perSecond, 1),
          formatNumber(row.l1, 1),
          formatNumber(row.l2, 1),
          formatNumber(row.origin, 1),
        ]),
  );
  const types = Object.entries(snapshot.events.byType).sort(([a], [b]) => a.localeCompare(b));
  fillRows(
    EVENTS_TABLE_ID,
    types.length === 0
      ? [["none yet", "", "", ""]]
      : types.map(([type, counts]) => [
          type,
          String(counts.applied),
          String(counts.stale),
          String(counts.duplicate),
        ]),
  );
  fillRows(
    PURGES_TABLE_ID,
    PURGE_PROVIDERS.map((provider) => {
      const purges = snapshot.purges[provider];
      return [
        provider,
        String(purges.sent),
        String(purges.accepted),
        String(purges.queued),
        String(purges.deadLettered),
      ];
    }),
  );
  const notes = unavailableNotes(snapshot);
  if (snapshot.poisonMessages > 0) notes.push(`retry queues: ${snapshot.poisonMessages} poison messages`);
  if (notes.length === 0) notes.push("nothing: every part answered");
  element(NOTES_ID).replaceChildren(
    ...notes.map((note) => {
      const item = document.createElement("li");
      item.textContent = note;
      return item;
    }),
  );
}

function chartOptions(name: ChartName, series: ChartSeries, width: number): uPlot.Options {
  const secondAxis = name === "events";
  return {
    width,
    height: CHART_HEIGHT,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, ...(secondAxis ? { ms: { auto: true } } : {}) },
    axes: [
      // Whole seconds at least: the samples are a second apart.
      { incrs: X_TICK_SECONDS },
      { size: 56 },
      ...(secondAxis ? [{ scale: "ms", side: 1 as const, grid: { show: false }, size: 56 }] : []),
    ],
    series: [
      {},
      ...series.labels.map((label, index) => ({
        label,
        stroke: COLOURS[index % COLOURS.length] ?? "#000",
        width: 2,
        spanGaps: false,
        ...(secondAxis && index > 0 ? { scale: "ms" } : {}),
      })),
    ],
  };
}

const charts = new Map<ChartName, uPlot>();

function chartWidth(container: HTMLElement): number {
  return Math.max(240, container.clientWidth);
}

function drawCharts(history: readonly DashboardSnapshot[]): void {
  const all = chartSeries(history);
  for (const name of Object.keys(CHART_IDS) as ChartName[]) {
    const container = element(CHART_IDS[name]);
    const series = all[name];
    const data = series.columns as uPlot.AlignedData;
    const existing = charts.get(name);
    if (existing) existing.setData(data);
    else charts.set(name, new uPlot(chartOptions(name, series, chartWidth(container)), data, container));
    container.dataset.points = String(series.columns[0].length);
    container.dataset.sum = String(columnsSum(series.columns));
  }
}

function setStatus(state: "live" | "error", text: string): void {
  const status = element(STATUS_ID);
  status.dataset.state = state;
  status.dataset.polls = String(polls);
  status.textContent = text;
}

async function poll(): Promise<void> {
  try {
    const response = await fetch("/api/snapshot", { cache: "no-store" });
    if (!response.ok) throw new Error(`/api/snapshot answered ${response.status}`);
    const snapshot = (await response.json()) as DashboardSnapshot;
    history.push(snapshot);
    if (history.length > MAX_POINTS) history.splice(0, history.length - MAX_POINTS);
    polls += 1;
    drawTiles(tiles(snapshot));
    drawTables(snapshot);
    drawCharts(history);
    setStatus("live", `live · ${new Date(snapshot.at).toLocaleTimeString("en-GB")}`);
  } catch (error) {
    setStatus("error", `no snapshot: ${(error as Error).message}`);
  }
}

/** One poll at a time: the next is scheduled once this one is answered, a second after it began. */
async function loop(): Promise<void> {
  const started = performance.now();
  await poll();
  setTimeout(loop, Math.max(0, POLL_INTERVAL_MS - (performance.now() - started)));
}

window.addEventListener("resize", () => {
  for (const [name, chart] of charts)
    chart.setSize({ width: chartWidth(element(CHART_IDS[name])), height: CHART_HEIGHT });
});

void loop();
