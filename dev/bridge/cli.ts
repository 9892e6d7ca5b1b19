/**
 * npm run bridge -- --port 8079 --redis-url redis://127.0.0.1:6379 --token T [--delay-ms 20]
 *
 * Serves the Upstash REST protocol in front of a Redis, so Workers and tools using
 * @upstash/redis can be developed against a local or self-hosted Redis.
 */
import { parseArgs } from "node:util";
import { parseDelayMs } from "./delay";
import { DEFAULT_BRIDGE_HOSTNAME, exposureProblem, PUBLIC_DEV_TOKEN, startBridgeServer } from "./server";

const USAGE = `usage: npm run bridge -- [--port N] [--host 127.0.0.1] [--redis-url redis://host:port] [--token T] [--delay-ms MS]
  --port       port to listen on (default: $BRIDGE_PORT, else a free port)
  --host       interface to bind (default ${DEFAULT_BRIDGE_HOSTNAME}; beyond loopback only with a --token of your own)
  --redis-url  Redis to front (default: $REDIS_URL, else the in-process emulator)
  --token      bearer token clients must send (default: $UPSTASH_REDIS_REST_TOKEN, else "${PUBLIC_DEV_TOKEN}")
  --delay-ms   wait this long before answering each request, one round trip to a Redis a hop away (default 0)`;

function fail(problems: string[]): never {
  console.error(`bridge: ${problems.join("; ")}\n${USAGE}`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "redis-url": { type: "string" },
      token: { type: "string" },
      "delay-ms": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  }));
} catch (error) {
  fail([(error as Error).message]);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const problems: string[] = [];
const portText = (values.port as string | undefined) ?? process.env.BRIDGE_PORT ?? "0";
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  problems.push(`--port must be 0-65535, got '${portText}'`);
const redisUrl = (values["redis-url"] as string | undefined) ?? process.env.REDIS_URL;
if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
  problems.push(`--redis-url must start with redis://, got '${redisUrl}'`);
const token =
  (values.token as string | undefined) ?? process.env.UPSTASH_REDIS_REST_TOKEN ?? PUBLIC_DEV_TOKEN;
if (token.trim() === "") problems.push("--token must not be empty");
const hostname = (values.host as string | undefined) ?? DEFAULT_BRIDGE_HOSTNAME;
const exposed = exposureProblem(hostname, token);
if (exposed) problems.push(exposed);
let delayMs = 0;
try {
  delayMs = parseDelayMs((values["delay-ms"] as string | undefined) ?? "0");
} catch (error) {
  problems.push((error as Error).message);
}
if (problems.length > 0) fail(problems);

try {
  const bridge = await startBridgeServer({
    token,
    port,
    hostname,
    delayMs,
    ...(redisUrl ? { redisUrl } : {}),
  });
  console.log(`redis-rest: ${bridge.url}`);
  console.error(`# backend: ${redisUrl ?? "in-process Redis emulator"}`);
  if (delayMs > 0) console.error(`# each request waits ${delayMs} ms, one round trip to a Redis a hop away`);
  const stop = async () => {
    await bridge.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  console.error(`bridge: ${(error as Error).message}`);
  process.exit(1);
}
