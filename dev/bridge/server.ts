/** Runs the bridge on Node: picks the backend, listens, and closes both cleanly. */
import { BlockList, isIP } from "node:net";
import type { Timers } from "../../core/time/clock";
import { serveApp } from "../support/serve-app";
import { type BridgeUsage, createBridgeApp, createBridgeUsage } from "./app";
import type { RedisBackend } from "./backend";
import { checkDelayMs } from "./delay";
import { createEmulatorBackend } from "./emulator-backend";
import { createIoredisBackend } from "./ioredis-backend";

/**
 * The token a bridge gets when none is given (dev/bridge/cli.ts, and dev/local/stack.ts's
 * DEFAULT_LOCAL_TOKEN re-exports it): it is in the source, so it protects nothing beyond this machine.
 */
export const PUBLIC_DEV_TOKEN = "local-dev-token";

export const DEFAULT_BRIDGE_HOSTNAME = "127.0.0.1";

/** The bridge would listen beyond loopback with the token everyone knows. */
export class BridgeExposureError extends Error {
  override readonly name = "BridgeExposureError";
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** 127.0.0.0/8, ::1 (IPv4-mapped loopback included) and `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost") return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

/** Why the bridge must not listen on `hostname` with `token`; undefined when it may. */
export function exposureProblem(hostname: string, token: string): string | undefined {
  if (token !== PUBLIC_DEV_TOKEN || isLoopbackHost(hostname)) return undefined;
  return (
    `refusing to listen on '${hostname}' with the public default token '${PUBLIC_DEV_TOKEN}': anyone who ` +
    "can reach that address could read, write or flush this Redis. Set --token (or " +
    "UPSTASH_REDIS_REST_TOKEN) to a secret of your own, or listen on loopback (127.0.0.1, ::1, localhost)"
  );
}

export interface BridgeServerOptions {
  readonly token: string;
  /** A real Redis (`redis://…`); without it the in-process emulator is used. */
  readonly redisUrl?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. Any other than loopback needs a token other than PUBLIC_DEV_TOKEN. */
  readonly hostname?: string;
  readonly maxBodyBytes?: number;
  /** Milliseconds each request waits, to play a Redis a network hop away (dev/bridge/delay.ts); default 0. */
  readonly delayMs?: number;
  /** What the real-Redis backend's reconnect attempts and the delay wait on (default: real timers). */
  readonly timers?: Timers;
}

export interface RunningBridge {
  /** Base URL for `new Redis({ url, token })`. */
  readonly url: string;
  readonly backend: RedisBackend;
  /** Requests and commands served since start (what the benchmarks count as Redis cost). */
  readonly usage: Readonly<BridgeUsage>;
  close(): Promise<void>;
}

export async function startBridgeServer(options: BridgeServerOptions): Promise<RunningBridge> {
  const hostname = options.hostname ?? DEFAULT_BRIDGE_HOSTNAME;
  // Checked here, not only in the CLI, so every caller (the local stack, tests, scripts) is held to it.
  const exposed = exposureProblem(hostname, options.token);
  if (exposed) throw new BridgeExposureError(exposed);
  // Before any connection is made: a bad delay starts nothing.
  const delayMs = checkDelayMs(options.delayMs ?? 0);
  const backend = options.redisUrl
    ? await createIoredisBackend({
        url: options.redisUrl,
        ...(options.timers ? { timers: options.timers } : {}),
      })
    : createEmulatorBackend();
  const usage = createBridgeUsage();
  const app = createBridgeApp({
    backend,
    usage,
    token: options.token,
    delayMs,
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  try {
    // Closing ends every connection, SSE streams included, so close() never waits for clients.
    const served = await serveApp(app, {
      port: options.port ?? 0,
      hostname,
    });
    return {
      url: served.url,
      backend,
      usage,
      async close() {
        await served.close();
        await backend.close();
      },
    };
  } catch (error) {
    await backend.close();
    throw error;
  }
}
