/**
 * Runs one varnishd in the foreground for the local HTTP caches: its own temporary work
 * directory (the generated VCL, the shared-memory log), loopback only, bounded memory and
 * request sizes. Varnish compiles the VCL with the system C compiler when it starts (about a
 * second). Stopping it sends SIGTERM (the manager stops its cache child), then SIGKILL to the
 * whole process group, and removes the work directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { isPortFree } from "../support/ports";
import { renderVcl, VARNISH_PROBE_METHOD, VARNISH_ROLES, type VarnishBackend, type VarnishRole } from "./vcl";

export class VarnishdNotFoundError extends Error {
  override readonly name = "VarnishdNotFoundError";
}

export class VarnishStartError extends Error {
  override readonly name = "VarnishStartError";
}

/** What to install for the HTTP cache tiers (Debian/Ubuntu package names). */
export const VARNISH_INSTALL_HINT = "apt-get install -y varnish varnish-modules";

/** Where Debian and source builds put varnishd, which is often off a user's PATH. */
const SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin"];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `VARNISHD_BIN` when set (and undefined when that is not an executable, which is how to run as
 * if Varnish were absent), else `varnishd` on PATH or in an sbin directory; undefined when there is none.
 */
export function findVarnishd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.VARNISHD_BIN) return isExecutable(env.VARNISHD_BIN) ? env.VARNISHD_BIN : undefined;
  for (const dir of [...(env.PATH ?? "").split(delimiter), ...SBIN_DIRS]) {
    if (dir && isExecutable(join(dir, "varnishd"))) return join(dir, "varnishd");
  }
  return undefined;
}

export interface VarnishOptions {
  readonly role: VarnishRole;
  /** Where misses go: the Worker (front) or the origin (back). */
  readonly backend: VarnishBackend;
  /** The port on 127.0.0.1 to serve; it must be free. */
  readonly port: number;
  /**
   * A second listener on 127.0.0.1 speaking the PROXY protocol, whose clients are whoever the
   * proxy header names: how a test is a client from outside loopback.
   */
  readonly proxyProtocolPort?: number;
  readonly binary?: string;
  /** Cache storage (`-s malloc,<size>`), default 64m; short-lived and uncacheable objects get the same again. */
  readonly storageSize?: string;
  /** Receives varnishd's output, line by line. */
  readonly onOutput?: (line: string) => void;
  /** Default 30 s: the VCL compile is the slow part. */
  readonly readyTimeoutMs?: number;
}

export interface RunningVarnish {
  readonly role: VarnishRole;
  readonly url: string;
  readonly port: number;
  readonly workDir: string;
  readonly process: ChildProcess;
  /** Safe to call twice. */
  stop(): Promise<void>;
}

const STORAGE_SIZE = /^\d{1,6}[kmg]$/;

/**
 * Parameters that bound what one request may cost (header sizes and counts, body size is
 * checked in the VCL) and keep the thread pool small, as a developer machine wants.
 */
const PARAMETERS = {
  http_req_hdr_len: "8k",
  http_req_size: "32k",
  http_resp_hdr_len: "8k",
  http_resp_size: "32k",
  http_max_hdr: "64",
  thread_pools: "1",
  thread_pool_min: "8",
  thread_pool_max: "128",
  // The VCL sets every object's TTL, grace and keep; these say the same for anything it misses.
  default_ttl: "0",
  default_grace: "0",
  default_keep: "0",
  syslog_cli_traffic: "off",
} as const;

export async function startVarnish(options: VarnishOptions): Promise<RunningVarnish> {
  // The readiness probe takes any answer; on a taken port it would be someone else's.
  for (const port of [options.port, options.proxyProtocolPort])
    if (port !== undefined && !(await isPortFree(port)))
      throw new VarnishStartError(`port ${port} is already in use on 127.0.0.1`);
  const binary = options.binary ?? findVarnishd();
  if (!binary) {
    throw new VarnishdNotFoundError(
      `varnishd not found on PATH or in /usr/sbin (install it: ${VARNISH_INSTALL_HINT})`,
    );
  }
  const storage = options.storageSize ?? "64m";
  if (!STORAGE_SIZE.test(storage))
    throw new VarnishStartError(`storageSize '${storage}' must be a number with k, m or g, e.g. 64m`);
  const vcl = renderVcl(options.role, options.backend);
  const workDir = await mkdtemp(join(tmpdir(), `varnish-${options.role}-`));
  const vclPath = join(workDir, VARNISH_ROLES[options.role].file);
  let child: ChildProcess | undefined;
  try {
    await writeFile(vclPath, vcl);
    const listen = [
      "-a",
      `127.0.0.1:${options.port}`,
      ...(options.proxyProtocolPort !== undefined
        ? ["-a", `127.0.0.1:${options.proxyProtocolPort},PROXY`]
        : []),
    ];
    child = spawn(
      binary,
      [
        "-F",
        // No privilege separation: everything runs as this user, who owns the work directory.
        "-j",
        "none",
        "-f",
        vclPath,
        ...listen,
        "-n",
        workDir,
        "-s",
        `malloc,${storage}`,
        "-s",
        `Transient=malloc,${storage}`,
        ...Object.entries(PARAMETERS).flatMap(([name, value]) => ["-p", `${name}=${value}`]),
      ],
      // A group of its own, so a SIGKILL also reaches the cache child.
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw new VarnishStartError(`cannot run ${binary}: ${(error as Error).message}`, { cause: error });
  }
  const running = child;
  let output = "";
  let partial = "";
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) options.onOutput?.(line);
  };
  running.stdout?.on("data", onData);
  running.stderr?.on("data", onData);
  let spawnError: Error | undefined;
  running.once("error", (error) => {
    spawnError = error;
  });

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= stopGroup(running).then(() => rm(workDir, { recursive: true, force: true }));
    return stopped;
  };
  const url = `http://127.0.0.1:${options.port}`;
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (spawnError)
        throw new VarnishStartError(`cannot run ${binary}: ${spawnError.message}`, { cause: spawnError });
      if (running.exitCode !== null || running.signalCode !== null)
        throw new VarnishStartError(
          `varnishd (${options.role}) exited before it served:\n${explain(output)}`,
        );
      if (Date.now() > deadline)
        throw new VarnishStartError(
          `varnishd (${options.role}) did not answer at ${url} within ${timeoutMs} ms:\n${output}`,
        );
      // Varnish answers the probe itself; until its child runs, connections wait or are refused.
      const answered = await fetch(`${url}/`, {
        method: VARNISH_PROBE_METHOD,
        signal: AbortSignal.timeout(1_000),
      }).then(
        async (response) => {
          await response.body?.cancel();
          return true;
        },
        () => false,
      );
      if (answered) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { role: options.role, url, port: options.port, workDir, process: running, stop };
}

/** varnishd's output, with the fix named for the failures a developer machine has. */
function explain(output: string): string {
  if (/Could not (find|load) VMOD/i.test(output))
    return `${output}\nThe VCL needs vmod_xkey and vmod_var (install: ${VARNISH_INSTALL_HINT})`;
  if (/Could not get socket|Address already in use/i.test(output)) return `${output}\nThe port is taken.`;
  return output;
}

/** SIGTERM to varnishd (the manager stops its child), then SIGKILL to the group after `graceMs`. */
function stopGroup(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      // A cache child that outlived its manager goes with the group.
      kill("SIGKILL");
      resolve();
    });
    child.kill("SIGTERM");
  });
}
