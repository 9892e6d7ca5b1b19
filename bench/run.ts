/**
 * npm run bench [-- --quick | --smoke] [--out <dir>] [--publish]
 *
 * Starts everything it measures (redis-server, the bridges, the origin, the event app with
 * the CDN and SQS fakes, Workers in workerd; for freshness through every tier, the local stack with
 * its two Varnish caches), drives load from a separate process, stops everything, and writes <out>/latest.json, latest.md and latest.svg (default bench/out, which
 * git ignores, so running the bench never dirties the tree). `--publish` also writes them to
 * bench/results, the committed copy the README shows: refreshing it is a deliberate change.
 * Scenarios run one after another on the same machine, so compare ratios, not absolute times.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { arch, cpus, platform, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { findRedisServer } from "../dev/local/redis-server";
import { measureLambdaBundle, measureWorkerBundle } from "../scripts/bundle-sizes";
import { type BenchProfile, PROFILES } from "./lib/profile";
import { renderMarkdownSummary } from "./lib/report-markdown";
import { renderChartSvg } from "./lib/report-svg";
import { type BenchResults, benchResultsSchema } from "./lib/results";
import { BENCH_TOKEN, L1_SYNC_INTERVAL_MS, startBenchServices } from "./lib/services";
import { checkTargets } from "./lib/targets";
import {
  measureL1BytesPer1kEntries,
  measureL1HeapBytesPer1kEntries,
  runEngineVsBentocache,
} from "./scenarios/engine-vs-bentocache";
import { runEventsThroughput } from "./scenarios/events-throughput";
import { runFreshnessTiers } from "./scenarios/freshness-tiers";
import { runL1Ceiling } from "./scenarios/l1-ceiling";
import { gpuCountFor, runMix } from "./scenarios/mix";
import { runPeers } from "./scenarios/peers";
import { runPropagation } from "./scenarios/propagation";

const USAGE = "usage: npm run bench [-- --quick | --smoke] [--out <dir>] [--publish]";
const DEFAULT_OUT = fileURLToPath(new URL("./out", import.meta.url));
const PUBLISHED_OUT = fileURLToPath(new URL("./results", import.meta.url));

function parseOptions(): { profile: BenchProfile; outs: string[] } {
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        smoke: { type: "boolean", default: false },
        out: { type: "string", default: DEFAULT_OUT },
        publish: { type: "boolean", default: false },
      },
    });
    if (values.quick && values.smoke) throw new Error("--quick and --smoke exclude each other");
    // Smoke figures are meaningless: they must never replace the committed copy.
    if (values.publish && values.smoke) throw new Error("--publish and --smoke exclude each other");
    const outs = [values.out, ...(values.publish && values.out !== PUBLISHED_OUT ? [PUBLISHED_OUT] : [])];
    return { profile: PROFILES[values.smoke ? "smoke" : values.quick ? "quick" : "full"], outs };
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

function machine(): BenchResults["machine"] {
  const redisServer = findRedisServer();
  const version = redisServer
    ? (/v=(\S+)/.exec(execFileSync(redisServer, ["--version"], { encoding: "utf8" }))?.[1] ?? "unknown")
    : "none";
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    platform: platform(),
    arch: arch(),
    node: process.version,
    redisServer: version,
  };
}

const log = (message: string) => console.log(`bench: ${message}`);

async function main(): Promise<void> {
  const { profile, outs } = parseOptions();
  const startedAt = new Date();
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    log(`${name} …`);
    const result = await run();
    log(`${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };

  const cloudfrontMode = "queued" as const;
  const services = await step("starting services", () =>
    startBenchServices({ gpuCount: gpuCountFor(profile.mixKeys), cloudfront: cloudfrontMode }),
  );
  // The freshness scenario's own stack, while it runs: its varnishd run detached and must go too.
  let stopFreshnessStack: (() => Promise<void>) | undefined;
  const stopOnSignal = () => {
    void Promise.allSettled([services.stop(), stopFreshnessStack?.()]).finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  let figures: Omit<
    BenchResults,
    | "targets"
    | "finishedAt"
    | "bundle"
    | "l1BytesPer1kEntries"
    | "l1HeapBytesPer1kEntries"
    | "engineVsBentocache"
    | "freshnessTiers"
  >;
  let engineVsBentocache: BenchResults["engineVsBentocache"];
  let l1BytesPer1kEntries: number;
  let l1HeapBytesPer1kEntries: number;
  try {
    const ours = await services.startOurWorker();
    const l1 = await step("1/8 L1 ceiling", () => runL1Ceiling(services, ours, profile));
    const peers = await step("2/8 peers", () => runPeers(services, ours, profile));
    const propagation = await step("4/8 propagation", () =>
      runPropagation(services, ours, profile, cloudfrontMode),
    );
    await ours.stop();
    const mix = await step("3/8 mix", () => runMix(services, profile));
    const events = await step("5/8 event throughput", () => runEventsThroughput(services, profile));
    engineVsBentocache = await step("6/8 engine vs bentocache", () =>
      runEngineVsBentocache({
        redisUrl: services.redisServer.url,
        bridgeUrl: services.workerBridge.url,
        bridgeToken: BENCH_TOKEN,
        durationMs: profile.engineDurationMs,
      }),
    );
    l1BytesPer1kEntries = await measureL1BytesPer1kEntries();
    l1HeapBytesPer1kEntries = await measureL1HeapBytesPer1kEntries();
    figures = {
      startedAt: startedAt.toISOString(),
      profile: profile.name,
      command: `npm run bench${profile.name === "full" ? "" : ` -- --${profile.name}`}`,
      machine: machine(),
      settings: {
        connections: profile.connections,
        secondsPerRun: profile.seconds,
        l1SyncIntervalMs: L1_SYNC_INTERVAL_MS,
      },
      ...l1,
      ...peers,
      ...mix,
      ...propagation,
      ...events,
    };
  } finally {
    await step("stopping services", () => services.stop());
  }
  // After the shared services stopped: this scenario brings up a whole stack of its own, twice.
  const { freshnessTiers } = await step("8/8 freshness through every tier", () =>
    runFreshnessTiers(profile, {
      onStack: (stop) => {
        stopFreshnessStack = stop;
      },
    }),
  );
  const bundle = await step("7/8 sizes", async () => {
    const worker = measureWorkerBundle();
    const lambda = await measureLambdaBundle();
    return {
      workerBytes: worker.rawBytes,
      workerGzipBytes: worker.gzipBytes,
      lambdaBytes: lambda.rawBytes,
      lambdaGzipBytes: lambda.gzipBytes,
    };
  });

  const withoutTargets = {
    ...figures,
    finishedAt: new Date().toISOString(),
    engineVsBentocache,
    freshnessTiers,
    bundle,
    l1BytesPer1kEntries,
    l1HeapBytesPer1kEntries,
  };
  const results = benchResultsSchema.parse({ ...withoutTargets, targets: checkTargets(withoutTargets) });
  const markdown = renderMarkdownSummary(results, { chartFile: "latest.svg" });
  for (const out of outs) {
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(join(out, "latest.md"), markdown);
    await writeFile(join(out, "latest.svg"), renderChartSvg(results));
  }
  console.log(`\n${markdown}`);
  log(`wrote latest.json, latest.md and latest.svg to ${outs.join(" and ")}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("bench: failed:", error);
    process.exit(1);
  },
);
