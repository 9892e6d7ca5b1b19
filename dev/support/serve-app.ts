/** Serves a Hono app on Node on a port (0 picks a free one) and closes it without waiting for keep-alive clients. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";

export interface ServedApp {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Anything with a Fetch-API handler (a Hono app). */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

export function serveApp(
  app: FetchApp,
  options: { port?: number; hostname?: string } = {},
): Promise<ServedApp> {
  const hostname = options.hostname ?? "127.0.0.1";
  return new Promise<ServedApp>((resolve, reject) => {
    let server: Server;
    const onListening = (info: AddressInfo) => {
      server.off("error", reject);
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      resolve({ url: `http://${host}:${info.port}`, port: info.port, close: () => closeServer(server) });
    };
    server = serve(
      { fetch: (request: Request) => app.fetch(request), port: options.port ?? 0, hostname },
      onListening,
    ) as Server;
    // Listening errors (EADDRINUSE, EACCES) arrive as events, not exceptions.
    server.once("error", reject);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
