/**
 * npm run bench:edge [-- --seconds 5 --connections 32 --rounds 2]
 *
 * On a local stack (real redis-server, the bridge, the origin, our Worker in workerd
 * through Miniflare, so requests reach workerd's socket with no dev-server proxy):
 *  1. L1 ceiling: our Worker serving an L1 hit vs a bare Hono Worker returning the
 *     same bytes in the same runtime, alternated round by round → throughput ratio.
 *  2. Redis commands per 1,000 requests on a hot key set (50 GPUs, all in L1), with
 *     L1_SYNC_INTERVAL_MS at its default, counted by redis-server itself.
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Redis as IoRedis } from "ioredis";
import { startBridgeServer } from "../bridge/server";
import { startMiniflareWorker } from "../local/miniflare-worker";
import { startRedisServer } from "../local/redis-server";
import { startOriginServer } from "../origin/server";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    rounds: { type: "string", default: "2" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
if (![seconds, connections, rounds].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("bench:edge: --seconds, --connections and --rounds must be positive integers");
  process.exit(2);
}

interface Load {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
}

async function load(url: string, paths: readonly string[]): Promise<Load> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: paths.map((path) => ({ method: "GET", path })),
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  };
}

/**
 * Commands the Worker sent, from redis-server's own counters. total_commands_processed would
 * also count the commands run inside Lua scripts, so count the commands the L2 store sends
 * (HGETALL, EVALSHA, and EVAL on a NOSCRIPT fallback) instead.
 */
async function commandsSent(redis: IoRedis): Promise<number> {
  const info = await redis.info("commandstats");
  let calls = 0;
  for (const name of ["hgetall", "evalsha", "eval"]) {
    calls += Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  }
  return calls;
}

const redisServer = await startRedisServer();
const bridge = await startBridgeServer({ token: "bench", redisUrl: redisServer.url });
const origin = await startOriginServer({ port: 0 });
const ours = await startMiniflareWorker({
  entry: "workers/index.ts",
  bindings: { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: "bench", ORIGIN_URL: origin.url },
});
let bare: Awaited<ReturnType<typeof startMiniflareWorker>> | undefined;
try {
  const target = "/v1/gpus?region=us-east&type=RTX-4090&limit=20";
  const body = await (await fetch(`${ours.url}${target}`)).text();
  bare = await startMiniflareWorker({ entry: "bench/bare-worker/index.ts", bindings: { BODY: body } });
  const bareBody = await (await fetch(`${bare.url}${target}`)).text();
  if (bareBody !== body) throw new Error("the bare Worker does not return the same body");
  const hit = await fetch(`${ours.url}${target}`);
  if (hit.headers.get("x-cache") !== "L1")
    throw new Error(`expected an L1 hit, got ${hit.headers.get("x-cache")}`);

  console.log(
    `# L1 ceiling: GET ${target} (${body.length} bytes), ${connections} connections, ${seconds} s x ${rounds} rounds each`,
  );
  const ourLoads: Load[] = [];
  const baseline: Load[] = [];
  for (let round = 0; round < rounds; round++) {
    baseline.push(await load(bare.url, [target]));
    ourLoads.push(await load(ours.url, [target]));
  }
  const sum = (loads: Load[]) => loads.reduce((total, run) => total + run.rps, 0);
  const mean = (loads: Load[], pick: (run: Load) => number) =>
    loads.reduce((total, run) => total + pick(run), 0) / loads.length;
  console.log("| worker | req/s | p50 ms | p99 ms | non-2xx |");
  console.log("|---|---|---|---|---|");
  for (const [name, loads] of [
    ["bare Hono", baseline],
    ["ours (L1 hit)", ourLoads],
  ] as const) {
    console.log(
      `| ${name} | ${Math.round(mean(loads, (r) => r.rps))} | ${mean(loads, (r) => r.p50).toFixed(1)} | ${mean(loads, (r) => r.p99).toFixed(1)} | ${loads.reduce((t, r) => t + r.non2xx, 0)} |`,
    );
  }
  console.log(`l1HitVsBareThroughputRatio: ${(sum(ourLoads) / sum(baseline)).toFixed(3)}`);

  const hotPaths = Array.from(
    { length: 50 },
    (_, index) => `/v1/gpus/gpu-${String(index + 101).padStart(5, "0")}`,
  );
  for (const path of hotPaths) await fetch(`${ours.url}${path}`);
  // Let the background L2 fills of the warm-up finish before counting.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const redis = new IoRedis(redisServer.url);
  try {
    const before = await commandsSent(redis);
    const hot = await load(ours.url, hotPaths);
    const sent = (await commandsSent(redis)) - before;
    console.log(
      `\n# Hot key set: 50 GPU records, ${connections} connections, ${seconds} s, L1_SYNC_INTERVAL_MS default`,
    );
    console.log(
      `requests: ${hot.requests}, req/s: ${Math.round(hot.rps)}, p99 ms: ${hot.p99}, non-2xx: ${hot.non2xx}`,
    );
    console.log(`redis commands: ${sent} → per 1,000 requests: ${((sent / hot.requests) * 1000).toFixed(2)}`);
  } finally {
    redis.disconnect();
  }
} finally {
  await bare?.stop();
  await ours.stop();
  await origin.close();
  await bridge.close();
  await redisServer.stop();
}
