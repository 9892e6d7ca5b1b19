/**
 * The dashboard's HTML, built from element-ids.ts so the ids it holds are the ones the script
 * and the test use. Everything it loads is served by the dashboard server itself: no CDN.
 */
import {
  CHART_IDS,
  CLASSES_TABLE_ID,
  EVENTS_TABLE_ID,
  NOTES_ID,
  PURGES_TABLE_ID,
  STATUS_ID,
  TILE_IDS,
} from "./element-ids";

export const SCRIPT_PATH = "/dashboard.js";
export const UPLOT_CSS_PATH = "/uplot.css";

const TILE_LABELS: Record<keyof typeof TILE_IDS, string> = {
  workerRequests: "Worker requests",
  frontHitRatio: "front hit ratio",
  l1HitRatio: "L1 hit ratio",
  redisPer1k: "Redis cmds / 1k requests",
  eventsApplied: "events applied",
  eventsIgnored: "events stale or duplicate",
  propagation: "propagation p50 / p99 (1 min)",
  purgesSent: "purge calls sent",
  purgesQueued: "purges queued",
  purgesDeadLettered: "purges dead-lettered",
};

const CHART_TITLES: Record<keyof typeof CHART_IDS, string> = {
  requests: "Requests/s by tier",
  hitRatio: "Hit ratio, % (last 10 s)",
  redis: "Redis commands per 1,000 Worker requests (last 10 s)",
  events: "Events applied/s · propagation p50 / p99, ms (last minute)",
  purges: "Purges: calls sent per provider; messages queued and dead-lettered now",
};

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #111827; background: #f9fafb; }
header { display: flex; align-items: baseline; gap: 16px; }
h1 { font-size: 18px; margin: 0 0 12px; }
h2 { font-size: 14px; margin: 0 0 4px; }
#${STATUS_ID} { color: #6b7280; }
#${STATUS_ID}[data-state="error"] { color: #b91c1c; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(125px, 1fr)); gap: 8px; }
.tile, .chart, .table { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 10px; }
.tile .label { color: #6b7280; font-size: 12px; }
.tile .value { font-size: 20px; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 8px; margin-top: 8px; }
.chart > div { overflow: hidden; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 8px; margin-top: 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 2px 6px; }
th:first-child, td:first-child { text-align: left; }
.notes { color: #92400e; margin: 0; padding-left: 18px; }
`;

const tile = (key: keyof typeof TILE_IDS) =>
  `<div class="tile" id="${TILE_IDS[key]}" data-value=""><div class="label">${TILE_LABELS[key]}</div><div class="value">–</div></div>`;

const chart = (key: keyof typeof CHART_IDS) =>
  `<div class="chart"><h2>${CHART_TITLES[key]}</h2><div id="${CHART_IDS[key]}" data-points="0" data-sum="0"></div></div>`;

const table = (title: string, id: string, columns: readonly string[]) =>
  `<div class="table"><h2>${title}</h2><table><thead><tr>${columns.map((name) => `<th>${name}</th>`).join("")}</tr></thead><tbody id="${id}"></tbody></table></div>`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gpu-edge-cache · local dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${UPLOT_CSS_PATH}">
<style>${STYLE}</style>
</head>
<body>
<header><h1>gpu-edge-cache · local stack</h1><span id="${STATUS_ID}" data-state="connecting" data-polls="0">connecting…</span></header>
<section class="tiles">${(Object.keys(TILE_IDS) as Array<keyof typeof TILE_IDS>).map(tile).join("")}</section>
<section class="charts">${(Object.keys(CHART_IDS) as Array<keyof typeof CHART_IDS>).map(chart).join("")}</section>
<section class="tables">
${table("Worker answers by data class", CLASSES_TABLE_ID, ["class", "answers", "per s (10 s)", "L1 %", "L2 %", "origin %"])}
${table("Events by type", EVENTS_TABLE_ID, ["type", "applied", "stale", "duplicate"])}
${table("Purges by provider", PURGES_TABLE_ID, ["provider", "sent", "accepted", "queued", "dead-lettered"])}
<div class="table"><h2>Not read</h2><ul class="notes" id="${NOTES_ID}"></ul></div>
</section>
<script type="module" src="${SCRIPT_PATH}"></script>
</body>
</html>
`;
}
