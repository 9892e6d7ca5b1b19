/**
 * npm start: the local stack. Prints one `name: URL` line per service (stdout), then runs
 * until Ctrl-C or SIGTERM, when it stops every child it started. Without the HTTP caches
 * (no varnishd) it says so in one line on stderr.
 *
 * Environment: EDGE_PORT, ORIGIN_PORT, BRIDGE_PORT, EVENTS_PORT, WORKER_PORT, ORIGIN_CACHE_PORT
 * (defaults 8787-8792, or a free port when a default is taken; the last two only with the HTTP
 * caches), REDIS_URL (use that Redis instead of a
 * redis-server child), LOCAL_EMULATOR=1 (force the in-process emulator),
 * UPSTASH_REDIS_REST_TOKEN (the bridge's token), WEBHOOK_SECRET, ORIGIN_SEED,
 * LOCAL_HTTP_CACHES=auto|varnish|none (the Varnish caches around the Worker; default auto),
 * LOCAL_VERBOSE=1 (the Worker's and varnishd's output and the event side's info lines, such as each
 * purge retried, on stderr).
 */
import { type HttpCachesOption, LocalStackError, startLocalStack } from "./stack";

function portFromEnv(name: string, problems: string[]): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${name} must be a port number 0-65535, got '${text}'`);
    return undefined;
  }
  return port;
}

const problems: string[] = [];
const ports = {
  edge: portFromEnv("EDGE_PORT", problems),
  origin: portFromEnv("ORIGIN_PORT", problems),
  redisRest: portFromEnv("BRIDGE_PORT", problems),
  events: portFromEnv("EVENTS_PORT", problems),
  worker: portFromEnv("WORKER_PORT", problems),
  originCache: portFromEnv("ORIGIN_CACHE_PORT", problems),
};
const seedText = process.env.ORIGIN_SEED;
const originSeed = seedText ? Number(seedText) : undefined;
if (originSeed !== undefined && !Number.isInteger(originSeed))
  problems.push(`ORIGIN_SEED must be an integer, got '${seedText}'`);
const redisUrl = process.env.REDIS_URL || undefined;
if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
  problems.push(`REDIS_URL must start with redis://, got '${redisUrl}'`);
const httpCachesText = process.env.LOCAL_HTTP_CACHES || "auto";
const HTTP_CACHES: readonly string[] = ["auto", "varnish", "none"] satisfies HttpCachesOption[];
if (!HTTP_CACHES.includes(httpCachesText))
  problems.push(`LOCAL_HTTP_CACHES must be auto, varnish or none, got '${httpCachesText}'`);
if (problems.length > 0) {
  console.error(`npm start: invalid settings:\n  - ${problems.join("\n  - ")}`);
  process.exit(2);
}

const verbose = process.env.LOCAL_VERBOSE === "1";
try {
  const stack = await startLocalStack({
    ports: Object.fromEntries(Object.entries(ports).filter(([, port]) => port !== undefined)),
    emulator: process.env.LOCAL_EMULATOR === "1",
    httpCaches: httpCachesText as HttpCachesOption,
    ...(redisUrl ? { redisUrl } : {}),
    ...(process.env.UPSTASH_REDIS_REST_TOKEN ? { token: process.env.UPSTASH_REDIS_REST_TOKEN } : {}),
    ...(originSeed !== undefined ? { originSeed } : {}),
    ...(process.env.WEBHOOK_SECRET ? { webhookSecret: process.env.WEBHOOK_SECRET } : {}),
    ...(verbose ? { onEdgeOutput: (line: string) => console.error(`[edge] ${line}`) } : {}),
    ...(verbose
      ? { onHttpCacheOutput: (cache: string, line: string) => console.error(`[${cache}] ${line}`) }
      : {}),
    // stdout carries only the `name: URL` lines, so the event side's info lines go to stderr too.
    ...(verbose ? { eventLogger: { info: console.error, warn: console.warn, error: console.error } } : {}),
  });
  for (const service of stack.services) console.log(`${service.name}: ${service.url}`);
  if (stack.httpCachesNote) console.error(stack.httpCachesNote);
  console.error(
    `# redis backend: ${stack.redisBackend}; bridge token: ${stack.token}; operator token (/_cache/stats): ${stack.operatorToken}\n# try: curl ${stack.urls.edge}/v1/gpus/gpu-00001 ; npm run event -- booking.created --gpu gpu-00001\n# Ctrl-C stops everything`,
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`# ${signal}: stopping`);
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  // `npm start` runs us under `sh -c`; when npm is killed, sh dies without passing the
  // signal on and we are re-parented. Stop then too, so nothing is left orphaned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("parent exited");
  }, 500).unref();
} catch (error) {
  console.error(`npm start: ${error instanceof LocalStackError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
