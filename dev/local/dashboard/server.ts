/**
 * The local dashboard's server: the page (page/html.ts), its script bundled with esbuild from
 * page/main.ts when the server starts (uPlot included, so the browser fetches nothing from
 * elsewhere), uPlot's stylesheet, and `GET /api/snapshot` (snapshot.ts). Loopback only: the
 * snapshot names the stack's URLs and counters, never a token.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Hono } from "hono";
import { type ServedApp, serveApp } from "../../support/serve-app";
import { dashboardHtml, SCRIPT_PATH, UPLOT_CSS_PATH } from "./page/html";
import type { DashboardSnapshot } from "./snapshot-types";

export const SNAPSHOT_PATH = "/api/snapshot";

export class DashboardBuildError extends Error {
  override readonly name = "DashboardBuildError";
}

export interface DashboardServerOptions {
  readonly snapshot: () => Promise<DashboardSnapshot>;
  /** 0 or unset: a free port. */
  readonly port?: number;
  readonly hostname?: string;
}

export interface RunningDashboard {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const NO_STORE = { "Cache-Control": "no-store" };

/** The page's script, bundled in memory (no build step, no file written). */
export async function bundleDashboardScript(): Promise<string> {
  const entry = fileURLToPath(new URL("./page/main.ts", import.meta.url));
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2022",
      logLevel: "silent",
    });
    const [output] = result.outputFiles;
    if (!output) throw new Error("esbuild produced no output");
    return output.text;
  } catch (error) {
    throw new DashboardBuildError(`could not bundle ${entry}: ${(error as Error).message}`, { cause: error });
  }
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboard> {
  const [script, uplotCss] = await Promise.all([
    bundleDashboardScript(),
    readFile(createRequire(import.meta.url).resolve("uplot/dist/uPlot.min.css"), "utf8"),
  ]);
  const html = dashboardHtml();
  const app = new Hono();
  app.get("/", (c) => c.html(html, 200, NO_STORE));
  app.get(SCRIPT_PATH, (c) =>
    c.body(script, 200, { ...NO_STORE, "Content-Type": "text/javascript; charset=utf-8" }),
  );
  app.get(UPLOT_CSS_PATH, (c) =>
    c.body(uplotCss, 200, { ...NO_STORE, "Content-Type": "text/css; charset=utf-8" }),
  );
  app.get(SNAPSHOT_PATH, async (c) => c.json(await options.snapshot(), 200, NO_STORE));
  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.onError((error, c) => c.json({ error: `snapshot failed: ${error.message}` }, 500, NO_STORE));
  const served: ServedApp = await serveApp(app, {
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
  });
  return { url: served.url, port: served.port, close: served.close };
}
