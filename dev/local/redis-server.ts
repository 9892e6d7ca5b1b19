/**
 * Starts a throwaway `redis-server` child (no persistence, loopback only, a free
 * port) for the local stack and the test harness. It can be killed as a crash kills it and
 * started again on the same port, where it comes back empty (what test/chaos/ plays).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { freePort } from "../support/ports";

export class RedisServerNotFoundError extends Error {
  override readonly name = "RedisServerNotFoundError";
}

export class RedisServerStartError extends Error {
  override readonly name = "RedisServerStartError";
}

export interface RedisServerChild {
  readonly url: string;
  readonly port: number;
  /** The running server's process (another one after `restart()`). */
  readonly process: ChildProcess;
  stop(): Promise<void>;
  /** Ends the server at once (SIGKILL, as a crash or an out-of-memory kill): connections drop unanswered. */
  kill(): Promise<void>;
  /** Stops the server if it runs, then starts a new one on the same port: empty, as nothing is persisted. */
  restart(): Promise<void>;
}

/** `REDIS_SERVER_BIN`, else `redis-server` on PATH; undefined when there is none. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.REDIS_SERVER_BIN) return env.REDIS_SERVER_BIN;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export async function startRedisServer(
  options: { binary?: string; port?: number } = {},
): Promise<RedisServerChild> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) {
    throw new RedisServerNotFoundError(
      "redis-server not found on PATH (install it: apt-get install -y redis-server)",
    );
  }
  const port = options.port ?? (await freePort());
  let child = await spawnRedisServer(binary, port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get process() {
      return child;
    },
    stop: () => stopChild(child),
    kill: () => killChild(child),
    async restart() {
      await stopChild(child);
      child = await spawnRedisServer(binary, port);
    },
  };
}

async function spawnRedisServer(binary: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new RedisServerStartError(
          `redis-server did not become ready on port ${port} within 10 s:\n${output}`,
        ),
      );
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new RedisServerStartError(`redis-server exited with code ${code} before it was ready:\n${output}`),
      );
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new RedisServerStartError(`cannot run ${binary}: ${error.message}`, { cause: error }));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** SIGTERM, then SIGKILL if the child has not gone within `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
