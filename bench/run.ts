/**
 * npm run bench [-- --quick | --smoke] [--out <dir>] [--publish] [--redis-delay-ms <n>]
 *
 * Starts everything it measures (redis-server, the bridges, the origin, the event app with
 * the CDN and SQS fakes, Workers in workerd; for freshness through every tier, the local stack with
 * its two Varnish caches), drives load from a separate process, stops everything, and writes <out>/latest.json, latest.md and latest.svg (default bench/out, which
 * git ignores, so running the bench never dirties the tree). `--publish` also writes them to
 * bench/results, the committed copy the README shows: refreshing it is a deliberate change.
 * Scenarios run one after another on the same machine, so compare ratios, not absolute times.
 * The peers run twice, with the Workers' Redis on loopback and `--redis-delay-ms` (default 20)
 * away per request, where Upstash is from the edge; the mix runs at that distance.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { arch, cpus, platform, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseDelayMs } from "../dev/bridge/delay";
import { findRedisServer } from "../dev/local/redis-server";
import { measureLambdaBundle, measureWorkerBundle } from "../scripts/bundle-sizes";
import { type BenchProfile, PROFILES } from "./lib/profile";
import { renderMarkdownSummary } from "./lib/report-markdown";
import { renderChartSvg } from "./lib/report-svg";
import { type BenchResults, benchResultsSchema } from "./lib/results";
import { BENCH_TOKEN, DEFAULT_REDIS_DELAY_MS, L1_SYNC_INTERVAL_MS, startBenchServices } from "./lib/services";
import { checkTargets } from "./lib/targets";
import { runCompression } from "./scenarios/compression";
import {
  measureL1BytesPer1kEntries,
  measureL1HeapBytesPer1kEntries,
  runEngineVsBentocache,
} from "./scenarios/engine-vs-bentocache";
import { runEventsThroughput } from "./scenarios/events-throughput";
import { runFreshnessTiers } from "./scenarios/freshness-tiers";
import { runL1Ceiling } from "./scenarios/l1-ceiling";
import { gpuCountFor, mixUniverse, runMix } from "./scenarios/mix";
import { runPeers, runPeersAtRedisDelay } from "./scenarios/peers";
import { runPropagation } from "./scenarios/propagation";

const USAGE =
  "usage: npm run bench [-- --quick | --smoke] [--out <dir>] [--publish] [--redis-delay-ms <n>, default 20]";
const DEFAULT_OUT = fileURLToPath(new URL("./out", import.meta.url));
const PUBLISHED_OUT = fileURLToPath(new URL("./results", import.meta.url));

function parseOptions(): { profile: BenchProfile; outs: string[]; redisDelayMs: number } {
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        smoke: { type: "boolean", default: false },
        out: { type: "string", default: DEFAULT_OUT },
        publish: { type: "boolean", default: false },
        "redis-delay-ms": { type: "string", default: String(DEFAULT_REDIS_DELAY_MS) },
      },
    });
    const redisDelayMs = parseDelayMs(values["redis-delay-ms"], "--redis-delay-ms");
    if (values.quick && values.smoke) throw new Error("--quick and --smoke exclude each other");
    // Smoke figures are meaningless: they must never replace the committed copy.
    if (values.publish && values.smoke) throw new Error("--publish and --smoke exclude each other");
    const outs = [values.out, ...(values.publish && values.out !== PUBLISHED_OUT ? [PUBLISHED_OUT] : [])];
    return {
      profile: PROFILES[values.smoke ? "smoke" : values.quick ? "quick" : "full"],
      outs,
      redisDelayMs,
    };
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
  const { profile, outs, redisDelayMs } = parseOptions();
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
    startBenchServices({ gpuCount: gpuCountFor(profile.mixKeys), cloudfront: cloudfrontMode, redisDelayMs }),
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
    | "compression"
  >;
  let engineVsBentocache: BenchResults["engineVsBentocache"];
  let mixTraffic: Awaited<ReturnType<typeof runMix>>["l2Traffic"];
  let l1BytesPer1kEntries: number;
  let l1HeapBytesPer1kEntries: number;
  try {
    const ours = await services.startOurWorker();
    const l1 = await step("1/11 L1 ceiling", () => runL1Ceiling(services, ours, profile));
    const { loopback, ...peers } = await step("2/11 peers, Redis on loopback", () =>
      runPeers(services, ours, profile),
    );
    const propagation = await step("3/11 propagation", () =>
      runPropagation(services, ours, profile, cloudfrontMode),
    );
    await ours.stop();
    const { distant, peersAtRedisDelay } = await step(
      `4/11 peers, Redis ${services.redisDelayMs} ms away`,
      () => runPeersAtRedisDelay(services, profile),
    );
    // Loopback first: it fills L2, so the distant run's warm-up reads L2 instead of the origin.
    const { mix: mixLoopback } = await step("5/11 mix, Redis on loopback", () =>
      runMix(services, profile, services.workerBridge),
    );
    const { mix, l2Traffic } = await step(`6/11 mix, Redis ${services.redisDelayMs} ms away`, () =>
      runMix(services, profile, services.distantWorkerBridge),
    );
    mixTraffic = l2Traffic;
    const events = await step("7/11 event throughput", () => runEventsThroughput(services, profile));
    engineVsBentocache = await step("8/11 engine vs bentocache", () =>
      runEngineVsBentocache({
        redisUrl: services.redisServer.url,
        bridgeUrl: services.workerBridge.url,
        bridgeToken: BENCH_TOKEN,
        durationMs: profile.engineDurationMs,
        rounds: profile.engineRounds,
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
        redisDelayMs: services.redisDelayMs,
      },
      ...l1,
      ...peers,
      peersAtRedisDelay,
      latencyVsNaive: { loopback, distant },
      mix,
      mixLoopback,
      ...propagation,
      ...events,
    };
  } finally {
    await step("stopping services", () => services.stop());
  }
  // On a quiet process (its CPU times are the process's): the origin's store outlives its server.
  const { compression } = await step("9/11 compression of L2 values (measured, not implemented)", () =>
    runCompression(services.origin.store, mixUniverse(services.origin, profile.mixKeys), mixTraffic, profile),
  );
  // After the shared services stopped: this scenario brings up a whole stack of its own, twice.
  const { freshnessTiers } = await step("10/11 freshness through every tier", () =>
    runFreshnessTiers(profile, {
      onStack: (stop) => {
        stopFreshnessStack = stop;
      },
    }),
  );
  const bundle = await step("11/11 sizes", async () => {
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
    compression,
    bundle,
    l1BytesPer1kEntries,
    l1HeapBytesPer1kEntries,
  };
  const checked = benchResultsSchema.safeParse({ ...withoutTargets, targets: checkTargets(withoutTargets) });
  if (!checked.success) {
    // Minutes of figures are not thrown away for one bad field: kept, named for what they are,
    // never as latest.json (the published copy and the README read only validated results).
    const kept = join(outs[0] ?? DEFAULT_OUT, "invalid.json");
    await mkdir(outs[0] ?? DEFAULT_OUT, { recursive: true });
    await writeFile(
      kept,
      `${JSON.stringify({ issues: checked.error.issues, figures: withoutTargets }, null, 2)}\n`,
    );
    throw new Error(
      `the figures do not match bench/lib/results.ts (kept in ${kept}): ${checked.error.message}`,
    );
  }
  const results = checked.data;
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
