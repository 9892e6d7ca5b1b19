/**
 * Runs the sample origin as a real HTTP server on Node, for the local stack and for tests
 * that need a URL (the Worker under test fetches it over the network like a real origin).
 */
import { serveApp } from "../support/serve-app";
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

  const served = await serveApp(app, { port: options.port ?? 0, hostname });
  return { url: served.url, port: served.port, store, close: served.close };
}
