/** The webhook app on Node, for the local stack. */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { buildEventsApp, type EventsAppDependencies } from "./build";
import type { EventsConfig } from "./config";

export interface RunningEventsServer {
  /** The webhook URL: POST signed events here. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startEventsServer(
  config: EventsConfig,
  options: EventsAppDependencies & { port?: number; hostname?: string } = {},
): Promise<RunningEventsServer> {
  const app = buildEventsApp(config, options);
  const hostname = options.hostname ?? "127.0.0.1";
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve, reject) => {
      const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      );
      server.once("error", reject);
    },
  );
  return {
    url: `http://${hostname}:${port}/v1/events`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
