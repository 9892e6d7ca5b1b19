/**
 * Load from a separate process: autocannon runs in a forked child (bench/lib/load-child.ts),
 * so the generator's CPU never shares an event loop with the services under test.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { MiniflareWorker } from "../../dev/local/miniflare-worker";
import { processCpuMs } from "./process-cpu";
import type { LatencyProbe, LoadSummary } from "./results";

export type LoadPlan =
  /** Each request takes the next path, round robin across all connections. */
  | { readonly kind: "paths"; readonly paths: readonly string[] }
  /** Each request draws a path by Zipf rank (index 0 = rank 1). */
  | { readonly kind: "zipf"; readonly paths: readonly string[]; readonly s: number; readonly seed: number }
  /** Each request is a freshly signed webhook delivery of `batchSize` gpu.status_changed events. */
  | {
      readonly kind: "events";
      readonly secret: string;
      readonly batchSize: number;
      /** Every event of the run carries this version (one run per version keeps them all `applied`). */
      readonly version: number;
      readonly idPrefix: string;
    };

export interface LoadOptions {
  /** Base URL; the plan gives paths (or the URL itself is POSTed to, for events). */
  readonly url: string;
  readonly plan: LoadPlan;
  readonly connections: number;
  /** Seconds to run, or … */
  readonly seconds?: number;
  /** … a fixed number of requests. */
  readonly amount?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Tally the X-Cache header of every response (costs the generator a little per response). */
  readonly tallyXCache?: boolean;
}

/**
 * One request at a time over one kept-alive connection, timed to the microsecond: what one
 * request costs, where a saturating run's latency is mostly its wait in the queue
 * (p50 ≈ connections ÷ throughput, whichever Worker answers).
 */
export interface ProbeOptions {
  readonly kind: "probe";
  /** Base URL; requests go round robin over the paths. */
  readonly url: string;
  readonly paths: readonly string[];
  readonly seconds: number;
}

export class LoadError extends Error {
  override readonly name = "LoadError";
}

const CHILD = fileURLToPath(new URL("./load-child.ts", import.meta.url));

export function runLoad(options: LoadOptions): Promise<LoadSummary> {
  return askChild<LoadSummary>(options);
}

export function runLatencyProbe(options: Omit<ProbeOptions, "kind">): Promise<LatencyProbe> {
  return askChild<LatencyProbe>({ kind: "probe", ...options });
}

function askChild<T>(options: LoadOptions | ProbeOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let answered = false;
    child.once("message", (message: { ok: true; summary: T } | { ok: false; error: string }) => {
      answered = true;
      if (message.ok) resolve(message.summary);
      else reject(new LoadError(`load generator failed: ${message.error}`));
    });
    child.once("error", (error) => reject(new LoadError("load generator did not start", { cause: error })));
    child.once("exit", (code) => {
      if (!answered) reject(new LoadError(`load generator exited with ${code} before answering`));
    });
    child.send(options);
  });
}

/** A load run against one Worker, with the CPU its workerd process spent per 1,000 requests. */
export async function measuredLoad(worker: MiniflareWorker, options: LoadOptions): Promise<LoadSummary> {
  const before = processCpuMs(worker.pid);
  const load = await runLoad(options);
  const after = processCpuMs(worker.pid);
  return before === undefined || after === undefined || load.requests === 0
    ? load
    : { ...load, workerCpuMsPer1k: ((after - before) / load.requests) * 1000 };
}
