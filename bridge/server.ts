/** Runs the bridge on Node: picks the backend, listens, and closes both cleanly. */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createBridgeApp } from "./app";
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
}

export interface RunningBridge {
  /** Base URL for `new Redis({ url, token })`. */
  readonly url: string;
  readonly backend: RedisBackend;
  close(): Promise<void>;
}

export async function startBridgeServer(options: BridgeServerOptions): Promise<RunningBridge> {
  const backend = options.redisUrl
    ? await createIoredisBackend({ url: options.redisUrl })
    : createEmulatorBackend();
  const app = createBridgeApp({
    backend,
    token: options.token,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const hostname = options.hostname ?? "127.0.0.1";
  try {
    const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
      (resolve, reject) => {
        const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, (info: AddressInfo) =>
          resolve({ server, port: info.port }),
        );
        server.once("error", reject);
      },
    );
    return {
      url: `http://${hostname}:${port}`,
      backend,
      async close() {
        // SSE streams hold connections open; end them so close() does not wait for clients.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await backend.close();
      },
    };
  } catch (error) {
    await backend.close();
    throw error;
  }
}
