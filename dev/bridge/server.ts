/** Runs the bridge on Node: picks the backend, listens, and closes both cleanly. */
import type { Timers } from "../../core/time/clock";
import { serveApp } from "../support/serve-app";
import { type BridgeUsage, createBridgeApp, createBridgeUsage } from "./app";
import type { RedisBackend } from "./backend";
import { createEmulatorBackend } from "./emulator-backend";
import { createIoredisBackend } from "./ioredis-backend";

export interface BridgeServerOptions {
  readonly token: string;
  /** A real Redis (`redis://…`); without it the in-process emulator is used. */
  readonly redisUrl?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly hostname?: string;
  readonly maxBodyBytes?: number;
  /** What the real-Redis backend's reconnect attempts wait on (default: real timers). */
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
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  try {
    // Closing ends every connection, SSE streams included, so close() never waits for clients.
    const served = await serveApp(app, {
      port: options.port ?? 0,
      hostname: options.hostname ?? "127.0.0.1",
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
