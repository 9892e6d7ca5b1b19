/**
 * Runs a Worker in workerd through `wrangler dev`, offline, and stops it without
 * leaving workerd behind: wrangler runs in a process group of its own, and the
 * whole group is signalled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isPortFree } from "../support/ports";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

export class WranglerDevError extends Error {
  override readonly name = "WranglerDevError";
}

export interface WranglerDevOptions {
  readonly port: number;
  /** Bindings passed with --var. */
  readonly vars: Readonly<Record<string, string>>;
  /** A wrangler.toml other than the project's. */
  readonly configPath?: string;
  readonly onOutput?: (line: string) => void;
  readonly readyTimeoutMs?: number;
}

export interface RunningWorker {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Kills wrangler and the workerd it started. */
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

export async function startWranglerDev(options: WranglerDevOptions): Promise<RunningWorker> {
  // The readiness probe takes any answer; on a taken port it would be someone else's.
  if (!(await isPortFree(options.port)))
    throw new WranglerDevError(`port ${options.port} is already in use on 127.0.0.1`);
  const child = spawn(
    `${projectRoot}node_modules/.bin/wrangler`,
    [
      "dev",
      ...(options.configPath ? ["--config", options.configPath] : []),
      "--ip",
      "127.0.0.1",
      "--port",
      String(options.port),
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
      ...Object.entries(options.vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    {
      cwd: projectRoot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    },
  );
  let output = "";
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    for (const line of text.split("\n")) if (line.trim()) options.onOutput?.(line);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const url = `http://127.0.0.1:${options.port}`;
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new WranglerDevError(`wrangler dev exited with code ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline)
        throw new WranglerDevError(`the Worker did not answer at ${url} within ${timeoutMs} ms:\n${output}`);
      try {
        await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stopProcessGroup(child);
    throw error;
  }
  return { url, process: child, stop: () => stopProcessGroup(child) };
}
