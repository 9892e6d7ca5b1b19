/**
 * Everything the benchmarks measure, started in one place: a real redis-server, two
 * Upstash-compatible bridges over it (one the Workers read through, one the event app
 * writes through, so each side's Redis cost is counted apart, as Upstash would bill it),
 * the sample origin, the event pipeline with the CDN and SQS fakes, and Workers in
 * workerd through Miniflare (no dev-server proxy in front of them).
 */
import { Redis as IoRedis } from "ioredis";
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

export interface BenchServices {
  readonly redisServer: RedisServerChild;
  /** A direct connection for probes (timings, counters), never on a measured path. */
  readonly redis: IoRedis;
  readonly workerBridge: BridgeProcess;
  readonly eventsBridge: BridgeProcess;
  readonly origin: OriginServer;
  readonly pipeline: EventPipeline;
  /** Starts our Worker (a fresh isolate: empty L1, zeroed stats). */
  startOurWorker(): Promise<MiniflareWorker>;
  /** Starts a bench-only Worker (bench/workers/<name>/index.ts) with these bindings plus the Redis and origin ones. */
  startPeerWorker(name: string, bindings?: Readonly<Record<string, string>>): Promise<MiniflareWorker>;
  stop(): Promise<void>;
}

export async function startBenchServices(options: {
  readonly gpuCount: number;
  readonly cloudfront: "queued" | "inline";
}): Promise<BenchServices> {
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
    const redisBindings = { UPSTASH_REDIS_REST_URL: workerBridge.url, UPSTASH_REDIS_REST_TOKEN: BENCH_TOKEN };
    return {
      redisServer,
      redis,
      workerBridge,
      eventsBridge,
      origin,
      pipeline,
      startOurWorker: () =>
        started(
          startMiniflareWorker({
            entry: "workers/index.ts",
            bindings: {
              ...redisBindings,
              ORIGIN_URL: origin.url,
              L1_SYNC_INTERVAL_MS: String(L1_SYNC_INTERVAL_MS),
            },
          }),
        ),
      startPeerWorker: (name, bindings = {}) =>
        started(
          startMiniflareWorker({
            entry: `bench/workers/${name}/index.ts`,
            bindings: { ...redisBindings, ORIGIN_URL: origin.url, ...bindings },
          }),
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
