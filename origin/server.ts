/**
 * Runs the sample origin as a real HTTP server on Node, for the local stack and for tests
 * that need a URL (the Worker under test fetches it over the network like a real origin).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createOriginApp } from "./app";
import { MarketplaceStore } from "./store";

export interface OriginServerOptions {
  /** 0 (the default) asks the OS for a free port; tests must not assume fixed ports. */
  port?: number;
  hostname?: string;
  seed?: number;
  gpuCount?: number;
  providerCount?: number;
  latencyMs?: number;
  adminToken?: string;
  now?: () => Date;
}

export interface OriginServer {
  url: string;
  port: number;
  store: MarketplaceStore;
  close(): Promise<void>;
}

export async function startOriginServer(options: OriginServerOptions = {}): Promise<OriginServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const store = new MarketplaceStore({
    seed: options.seed,
    gpuCount: options.gpuCount,
    providerCount: options.providerCount,
    now: options.now,
  });
  const app = createOriginApp({ store, latencyMs: options.latencyMs, adminToken: options.adminToken });

  return new Promise<OriginServer>((resolve, reject) => {
    let server: Server;
    const onListening = (info: AddressInfo) => {
      server.off("error", reject);
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        store,
        close: () => closeServer(server),
      });
    };
    server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, onListening) as Server;
    // Listening errors (EADDRINUSE, EACCES) arrive as events, not exceptions.
    server.once("error", reject);
  });
}

/** Keep-alive sockets would hold close() open for seconds, so idle ones are dropped at once. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
