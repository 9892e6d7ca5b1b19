/** The webhook app on Node, for the local stack. */

import { buildEventsApp, type EventsAppDependencies } from "../../lambdas/events/build";
import type { EventsConfig } from "../../lambdas/events/config";
import { serveApp } from "../support/serve-app";

export interface RunningEventsServer {
  /** The webhook URL: POST signed events here. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startEventsServer(
  config: EventsConfig,
  options: EventsAppDependencies & { port?: number; hostname?: string } = {},
): Promise<RunningEventsServer> {
  const served = await serveApp(buildEventsApp(config, options), {
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
  });
  return { url: `${served.url}/v1/events`, close: served.close };
}
