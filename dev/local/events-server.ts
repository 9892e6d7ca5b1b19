/**
 * The webhook app on Node, for the local stack. With `counts`, every answer is recorded there
 * (dev/local/dashboard/event-counts.ts): the app's 202 names each event's status, and the
 * delivered body its type and `occurredAt`.
 */

import { APPLY_STATUSES, type ApplyStatus } from "../../core/redis/fields";
import { buildEventsApp, type EventsAppDependencies } from "../../lambdas/events/build";
import type { EventsConfig } from "../../lambdas/events/config";
import { type FetchApp, serveApp } from "../support/serve-app";
import type { AnsweredEvent, EventCounts } from "./dashboard/event-counts";

export interface RunningEventsServer {
  /** The webhook URL: POST signed events here. */
  readonly url: string;
  close(): Promise<void>;
}

const EVENTS_PATH = "/v1/events";
const STATUSES: readonly string[] = Object.values(APPLY_STATUSES);

/** The delivered events (one, or `{events}`) by id; the app has already refused any body that is not. */
function sentEvents(body: string): Map<string, { occurredAt?: unknown }> {
  const parsed = JSON.parse(body) as { events?: unknown[] } & { id?: unknown };
  const events = Array.isArray(parsed.events) ? parsed.events : [parsed];
  return new Map(
    events.map((event) => [String((event as { id?: unknown }).id), event as { occurredAt?: unknown }]),
  );
}

/** The 202's results joined with the delivered events; throws on a body either side did not send. */
function answeredEvents(requestBody: string, answer: unknown): AnsweredEvent[] {
  const sent = sentEvents(requestBody);
  const results = (answer as { results?: unknown }).results;
  if (!Array.isArray(results)) throw new TypeError("the 202 has no results");
  return results.map((result: { id?: unknown; type?: unknown; status?: unknown }) => {
    if (typeof result.status !== "string" || !STATUSES.includes(result.status))
      throw new TypeError(`unknown status ${String(result.status)}`);
    const occurredAt = Date.parse(String(sent.get(String(result.id))?.occurredAt));
    return {
      type: String(result.type),
      status: result.status as ApplyStatus,
      occurredAt: Number.isNaN(occurredAt) ? undefined : occurredAt,
    };
  });
}

function counted(app: FetchApp, counts: EventCounts, logger: Pick<Console, "warn">): FetchApp {
  return {
    async fetch(request) {
      if (request.method !== "POST" || new URL(request.url).pathname !== EVENTS_PATH)
        return app.fetch(request);
      // Teed before the app reads it; read only once the app has accepted it (so within its size cap).
      const copy = request.clone();
      const response = await app.fetch(request);
      if (response.status !== 202) {
        await copy.body?.cancel();
        counts.record(response.status);
        return response;
      }
      try {
        counts.record(202, answeredEvents(await copy.text(), await response.clone().json()));
      } catch (error) {
        // A counter must never cost the sender its answer.
        counts.record(202);
        logger.warn(`events server: could not count a 202: ${(error as Error).message}`);
      }
      return response;
    },
  };
}

export async function startEventsServer(
  config: EventsConfig,
  options: EventsAppDependencies & { port?: number; hostname?: string; counts?: EventCounts } = {},
): Promise<RunningEventsServer> {
  const app = buildEventsApp(config, options);
  const served = await serveApp(
    options.counts ? counted(app, options.counts, options.logger ?? console) : app,
    {
      port: options.port ?? 0,
      hostname: options.hostname ?? "127.0.0.1",
    },
  );
  return { url: `${served.url}${EVENTS_PATH}`, close: served.close };
}
