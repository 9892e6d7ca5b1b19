/**
 * The whole system on one machine, no cloud account (DESIGN "Local stack"):
 * Redis (a redis-server child, or the in-process emulator), the Upstash REST
 * bridge, the sample origin, and the edge Worker in workerd through `wrangler dev`.
 * Used by `npm start`, the end-to-end tests and the benchmarks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { startBridgeServer } from "../bridge/server";
import { startOriginServer } from "../origin/server";
import { freePort } from "./ports";
import { findRedisServer, startRedisServer } from "./redis-server";

export const DEFAULT_PORTS = { edge: 8787, origin: 8788, redisRest: 8789 } as const;
export const DEFAULT_LOCAL_TOKEN = "local-dev-token";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

export class LocalStackError extends Error {
  override readonly name = "LocalStackError";
}

export interface LocalStackOptions {
  /** Explicit ports must be free; unset ones use the defaults, or a free port when a default is taken. */
  readonly ports?: { edge?: number; origin?: number; redisRest?: number };
  /** Use this Redis instead of starting one. */
  readonly redisUrl?: string;
  /** Run over the in-process emulator even when redis-server exists. */
  readonly emulator?: boolean;
  readonly token?: string;
  readonly originSeed?: number;
  /** Receives the Worker's (wrangler's) output lines. */
  readonly onEdgeOutput?: (line: string) => void;
}

export interface LocalService {
  readonly name: string;
  readonly url: string;
}

export interface LocalStack {
  /** In start order: redis, redis-rest, origin, edge. */
  readonly services: readonly LocalService[];
  readonly urls: {
    readonly edge: string;
    readonly origin: string;
    readonly redisRest: string;
    readonly redis: string;
  };
  readonly redisBackend: "redis-server" | "external" | "emulator";
  readonly token: string;
  /** Stops every child and server this stack started; safe to call twice. */
  stop(): Promise<void>;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function choosePort(name: string, explicit: number | undefined, fallback: number): Promise<number> {
  if (explicit !== undefined) {
    if (explicit === 0) return freePort();
    if (!(await isPortFree(explicit)))
      throw new LocalStackError(`${name} port ${explicit} is already in use`);
    return explicit;
  }
  return (await isPortFree(fallback)) ? fallback : freePort();
}

async function waitForHttp(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new LocalStackError(
        `the edge Worker (wrangler dev) exited with code ${child.exitCode}:\n${output()}`,
      );
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new LocalStackError(`the edge Worker did not answer at ${url} within ${timeoutMs} ms:\n${output()}`);
}

/** Kills wrangler and the workerd it started: it runs in a process group of its own. */
function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      // workerd may outlive wrangler for a moment; the group signal reaches it too.
      kill("SIGKILL");
      resolve();
    });
    kill("SIGTERM");
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const token = options.token ?? DEFAULT_LOCAL_TOKEN;
  const stops: Array<() => Promise<void>> = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const step of stops.reverse()) await step().catch(() => {});
  };

  try {
    const [edgePort, originPort, redisRestPort] = [
      await choosePort("edge", options.ports?.edge, DEFAULT_PORTS.edge),
      await choosePort("origin", options.ports?.origin, DEFAULT_PORTS.origin),
      await choosePort("redis-rest", options.ports?.redisRest, DEFAULT_PORTS.redisRest),
    ];

    let redisUrl = options.redisUrl;
    let redisBackend: LocalStack["redisBackend"] = redisUrl ? "external" : "emulator";
    if (!redisUrl && !options.emulator && findRedisServer()) {
      const redis = await startRedisServer();
      stops.push(() => redis.stop());
      redisUrl = redis.url;
      redisBackend = "redis-server";
    }

    const bridge = await startBridgeServer({ token, port: redisRestPort, ...(redisUrl ? { redisUrl } : {}) });
    stops.push(() => bridge.close());
    const origin = await startOriginServer({
      port: originPort,
      ...(options.originSeed !== undefined ? { seed: options.originSeed } : {}),
    });
    stops.push(() => origin.close());

    const wranglerBin = `${projectRoot}node_modules/.bin/wrangler`;
    const vars = {
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: token,
      ORIGIN_URL: origin.url,
    };
    const edge = spawn(
      wranglerBin,
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(edgePort),
        "--show-interactive-dev-session=false",
        "--log-level",
        "warn",
        ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ],
      {
        cwd: projectRoot,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      },
    );
    stops.push(() => stopProcessGroup(edge));
    let edgeOutput = "";
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString();
      edgeOutput = (edgeOutput + text).slice(-20_000);
      for (const line of text.split("\n")) if (line.trim()) options.onEdgeOutput?.(line);
    };
    edge.stdout?.on("data", onOutput);
    edge.stderr?.on("data", onOutput);
    const edgeUrl = `http://127.0.0.1:${edgePort}`;
    await waitForHttp(`${edgeUrl}/`, edge, () => edgeOutput, 60_000);

    const urls = {
      edge: edgeUrl,
      origin: origin.url,
      redisRest: bridge.url,
      redis: redisUrl ?? "emulator://in-process",
    };
    return {
      services: [
        { name: "redis", url: urls.redis },
        { name: "redis-rest", url: urls.redisRest },
        { name: "origin", url: urls.origin },
        { name: "edge", url: urls.edge },
      ],
      urls,
      redisBackend,
      token,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
