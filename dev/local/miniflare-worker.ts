/**
 * Runs a Worker in workerd through Miniflare, with no `wrangler dev` proxy in front:
 * requests reach workerd's own socket. The benchmarks use it so they measure the
 * Worker, not the dev server's request forwarding.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { ANALYTICS_BINDING, ANALYTICS_DATASET } from "../../workers/telemetry/data-point";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
/** workerd refuses module paths outside its starting directory, so bundles stay in the project. */
const OUT_DIR = `${projectRoot}dist/miniflare`;

export interface MiniflareWorker {
  readonly url: string;
  /** The workerd process serving it, where /proc tells (Linux); the benchmarks read its CPU time. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** workerd processes this process started (Miniflare spawns one per instance). */
function workerdChildren(): Set<number> {
  const found = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${entry}/stat`, "utf8"));
      if (stat?.[1] === "workerd" && Number(stat[2]) === process.pid) found.add(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}

export async function startMiniflareWorker(options: {
  /** Entry module, relative to the project root (e.g. `workers/index.ts`). */
  readonly entry: string;
  readonly bindings: Readonly<Record<string, string>>;
  readonly compatibilityDate?: string;
}): Promise<MiniflareWorker> {
  await mkdir(OUT_DIR, { recursive: true });
  const outfile = `${OUT_DIR}/${basename(options.entry).replace(/\.ts$/, "")}-${process.pid}-${Date.now()}.js`;
  await build({
    entryPoints: [`${projectRoot}${options.entry}`],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    outfile,
    logLevel: "warning",
  });
  const before = workerdChildren();
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: outfile,
      compatibilityDate: options.compatibilityDate ?? "2026-08-01",
      bindings: { ...options.bindings },
      // As wrangler.toml declares it: the Worker writes its data points to Miniflare's simulator.
      analyticsEngineDatasets: { [ANALYTICS_BINDING]: { dataset: ANALYTICS_DATASET } },
      host: "127.0.0.1",
      port: 0,
      // The Worker logs one JSON line per answered request (workers/telemetry/log.ts). Printed through
      // this process that costs a benchmark more than the Worker's own work, and a child's output
      // buffer overflows under load, so only warnings and errors come through.
      handleStructuredLogs: ({ level, message }) => {
        if (level === "warn" || level === "error") console.error(message);
      },
    }),
  );
  const url = await miniflare.ready;
  const started = [...workerdChildren()].filter((pid) => !before.has(pid));
  return {
    url: String(url).replace(/\/$/, ""),
    // Instances started at the same time cannot be told apart: then no pid rather than a wrong one.
    pid: started.length === 1 ? started[0] : undefined,
    stop: () => miniflare.dispose(),
  };
}
