/**
 * npm start: the local stack. Prints one `name: URL` line per service (stdout), then runs
 * until Ctrl-C or SIGTERM, when it stops every child it started. Without the HTTP caches
 * (no varnishd) it says so in one line on stderr.
 *
 * Environment: EDGE_PORT, ORIGIN_PORT, BRIDGE_PORT, EVENTS_PORT, WORKER_PORT, ORIGIN_CACHE_PORT,
 * DASHBOARD_PORT (defaults 8787-8793, or a free port when a default is taken; WORKER_PORT and
 * ORIGIN_CACHE_PORT only with the HTTP caches), REDIS_URL (use that Redis instead of a
 * redis-server child), LOCAL_EMULATOR=1 (force the in-process emulator),
 * UPSTASH_REDIS_REST_TOKEN (the bridge's token), WEBHOOK_SECRET, ORIGIN_SEED,
 * LOCAL_HTTP_CACHES=auto|varnish|none (the Varnish caches around the Worker; default auto),
 * LOCAL_VERBOSE=1 (the Worker's and varnishd's output and the event side's info lines, such as each
 * purge retried, on stderr), LOCAL_STACK_STATE (the state file, default .local-stack.json).
 *
 * It serves the live dashboard too (dev/local/dashboard/: counters of every tier, the events and the
 * purges, updated every second), on its `dashboard:` line.
 *
 * Once up it writes the URLs and its pid to the state file (dev/local/stack-state.ts), which
 * `npm run event` reads, and removes it when it stops.
 *
 * `npm start` runs this with `exec` (package.json): npm forwards SIGINT and SIGTERM to its child,
 * and a `sh -c` in between would keep SIGINT to itself (dash catches it and waits for a child
 * that never gets it).
 */
import { type HttpCachesOption, LocalStackError, startLocalStack } from "./stack";
import {
  eventCommand,
  removeStackState,
  STACK_STATE_ENV,
  stackStateOf,
  stackStatePath,
  writeStackState,
} from "./stack-state";

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
  dashboard: portFromEnv("DASHBOARD_PORT", problems),
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

// Whoever reads our output may be gone before we are (a terminal closed, a test runner exited):
// a write then fails with EPIPE, which must not end this process before it has stopped its children.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

const verbose = process.env.LOCAL_VERBOSE === "1";
try {
  const stack = await startLocalStack({
    ports: Object.fromEntries(Object.entries(ports).filter(([, port]) => port !== undefined)),
    emulator: process.env.LOCAL_EMULATOR === "1",
    httpCaches: httpCachesText as HttpCachesOption,
    dashboard: true,
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
  const statePath = stackStatePath();
  let stateWritten = false;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`# ${signal}: stopping`);
    // First, so no command is sent to a stack on its way down.
    if (stateWritten) removeStackState(statePath, process.pid);
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  // Written before the URLs print, so whoever reads them can run `npm run event` at once.
  try {
    writeStackState(
      statePath,
      stackStateOf(stack, {
        pid: process.pid,
        startedAt: new Date(),
        customWebhookSecret: Boolean(process.env.WEBHOOK_SECRET),
      }),
    );
    stateWritten = true;
  } catch (error) {
    console.error(
      `# ${(error as Error).message}: npm run event needs EVENTS_URL=${stack.urls.events} ORIGIN_URL=${stack.urls.origin} EDGE_URL=${stack.urls.edge}`,
    );
  }
  for (const service of stack.services) console.log(`${service.name}: ${service.url}`);
  if (stack.httpCachesNote) console.error(stack.httpCachesNote);
  const tryEvent = eventCommand(
    ["booking.created", "--gpu", "gpu-00001"],
    stateWritten
      ? { [STACK_STATE_ENV]: process.env[STACK_STATE_ENV] }
      : { EVENTS_URL: stack.urls.events, ORIGIN_URL: stack.urls.origin, EDGE_URL: stack.urls.edge },
  );
  console.error(
    `# redis backend: ${stack.redisBackend}; bridge token: ${stack.token}; operator token (/_cache/stats): ${stack.operatorToken}\n# try: curl ${stack.urls.edge}/v1/gpus/gpu-00001 ; ${tryEvent}\n# Ctrl-C stops everything`,
  );
  // When npm itself is killed outright (SIGKILL), it passes nothing on and we are re-parented.
  // Stop then too, so nothing is left orphaned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("parent exited");
  }, 500).unref();
} catch (error) {
  console.error(`npm start: ${error instanceof LocalStackError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
