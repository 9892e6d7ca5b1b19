/**
 * Everything the benchmarks measure, started in one place: a real redis-server, three
 * Upstash-compatible bridges over it (two the Workers read through, one on loopback and one
 * a network hop away, and one the event app writes through, so each side's Redis cost is
 * counted apart, as Upstash would bill it), the sample origin, the event pipeline with the
 * CDN and SQS fakes, and Workers in workerd through Miniflare (no dev-server proxy in front
 * of them).
 */
import { Redis as IoRedis } from "ioredis";
import { checkDelayMs } from "../../dev/bridge/delay";
import { type EventPipeline, startEventPipeline } from "../../dev/local/event-pipeline";
import { type MiniflareWorker, startMiniflareWorker } from "../../dev/local/miniflare-worker";
import { type RedisServerChild, startRedisServer } from "../../dev/local/redis-server";
import { DEFAULT_WEBHOOK_SECRET } from "../../dev/local/stack";
import { type OriginServer, startOriginServer } from "../../dev/origin/server";
import { type BridgeProcess, startBridgeProcess } from "./bridge-process";

export const BENCH_TOKEN = "bench-token";
export const WEBHOOK_SECRET = DEFAULT_WEBHOOK_SECRET;
/** The freshness interval our Worker runs with (the product default). */
export const L1_SYNC_INTERVAL_MS = 500;
/**
 * The round trip the far bridge adds per request (`--redis-delay-ms`): an edge data centre
 * reading a regional Upstash database is tens of ms away (1–2 ms only in the same region).
 */
export const DEFAULT_REDIS_DELAY_MS = 20;
/** For /_cache/stats on our Worker (OPERATOR_TOKEN takes at least 16 characters). */
export const BENCH_OPERATOR_TOKEN = "bench-operator-token";

/** Public GETs the sample origin answered so far: each is one origin fetch (dev/origin/app.ts OriginCounters). */
export async function originRequests(originUrl: string): Promise<number> {
  const response = await fetch(`${originUrl}/_admin/counters`);
  if (!response.ok) throw new Error(`origin counters answered ${response.status}`);
  const { requests } = (await response.json()) as { requests?: unknown };
  if (typeof requests !== "number") throw new Error("origin counters carry no request count");
  return requests;
}

/** Which Redis a Worker reads: the bridge on loopback, or the one a round trip away. */
export interface WorkerStartOptions {
  readonly bridge?: BridgeProcess;
}

export interface BenchServices {
  readonly redisServer: RedisServerChild;
  /** A direct connection for probes (timings, counters), never on a measured path. */
  readonly redis: IoRedis;
  /** Loopback: the Workers' Redis as close as it can be. */
  readonly workerBridge: BridgeProcess;
  /** The same Redis, each request delayed by `redisDelayMs`: where Upstash really is from the edge. */
  readonly distantWorkerBridge: BridgeProcess;
  readonly redisDelayMs: number;
  readonly eventsBridge: BridgeProcess;
  readonly origin: OriginServer;
  readonly pipeline: EventPipeline;
  /** Starts our Worker (a fresh isolate: empty L1, zeroed stats) on `workerBridge` unless told otherwise. */
  startOurWorker(options?: WorkerStartOptions): Promise<MiniflareWorker>;
  /** Starts a bench-only Worker (bench/workers/<name>/index.ts) with these bindings plus the Redis and origin ones. */
  startPeerWorker(
    name: string,
    bindings?: Readonly<Record<string, string>>,
    options?: WorkerStartOptions,
  ): Promise<MiniflareWorker>;
  stop(): Promise<void>;
}

export async function startBenchServices(options: {
  readonly gpuCount: number;
  readonly cloudfront: "queued" | "inline";
  /** Default DEFAULT_REDIS_DELAY_MS. */
  readonly redisDelayMs?: number;
}): Promise<BenchServices> {
  const redisDelayMs = checkDelayMs(options.redisDelayMs ?? DEFAULT_REDIS_DELAY_MS, "--redis-delay-ms");
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const redisServer = await startRedisServer();
    stops.push(() => redisServer.stop());
    const redis = new IoRedis(redisServer.url);
    stops.push(async () => {
      redis.disconnect();
    });
    const workerBridge = await startBridgeProcess({ token: BENCH_TOKEN, redisUrl: redisServer.url });
    stops.push(() => workerBridge.stop());
    const distantWorkerBridge = await startBridgeProcess({
      token: BENCH_TOKEN,
      redisUrl: redisServer.url,
      delayMs: redisDelayMs,
    });
    stops.push(() => distantWorkerBridge.stop());
    // The event app's bridge stays on loopback: the webhook Lambda runs in the AWS region of
    // the Upstash primary (1–2 ms), and its figures (propagation, events/s) stay comparable
    // with earlier runs. The distance that matters is the edge's, to a database in one region.
    const eventsBridge = await startBridgeProcess({ token: BENCH_TOKEN, redisUrl: redisServer.url });
    stops.push(() => eventsBridge.stop());
    const origin = await startOriginServer({ port: 0, gpuCount: options.gpuCount });
    stops.push(() => origin.close());
    const quiet = { info: () => {}, warn: () => {}, error: console.error };
    const pipeline = await startEventPipeline({
      redisRestUrl: eventsBridge.url,
      token: BENCH_TOKEN,
      webhookSecret: WEBHOOK_SECRET,
      cloudfront: options.cloudfront,
      logger: quiet,
    });
    stops.push(() => pipeline.stop());

    const started = async (worker: Promise<MiniflareWorker>) => {
      const running = await worker;
      stops.push(() => running.stop());
      return running;
    };
    const redisBindings = (bridge: BridgeProcess = workerBridge) => ({
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: BENCH_TOKEN,
    });
    return {
      redisServer,
      redis,
      workerBridge,
      distantWorkerBridge,
      redisDelayMs,
      eventsBridge,
      origin,
      pipeline,
      startOurWorker: (start = {}) =>
        started(
          startMiniflareWorker({
            entry: "workers/index.ts",
            bindings: {
              ...redisBindings(start.bridge),
              ORIGIN_URL: origin.url,
              L1_SYNC_INTERVAL_MS: String(L1_SYNC_INTERVAL_MS),
              OPERATOR_TOKEN: BENCH_OPERATOR_TOKEN,
            },
          }),
        ),
      startPeerWorker: (name, bindings = {}, start = {}) =>
        started(
          startMiniflareWorker({
            entry: `bench/workers/${name}/index.ts`,
            bindings: { ...redisBindings(start.bridge), ORIGIN_URL: origin.url, ...bindings },
          }),
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
