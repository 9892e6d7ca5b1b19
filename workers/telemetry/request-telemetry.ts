/**
 * The app's outermost middleware: gives each request its id, and once the answer is made
 * (by a route, the 404 handler or the error handler alike) records exactly one observation
 * of it: its data point, its count and its log line (workers/telemetry/telemetry.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { outcomeOf, type RequestObservation } from "./data-point";
import type { EdgeTelemetry } from "./telemetry";

export interface EdgeVariables {
  /** `cf-ray` when Cloudflare sent one, else made here: every log line of the request carries it. */
  requestId: string;
  /** Set by a cached route once its lookup is known. */
  dataClass: string | undefined;
}

/** The Hono environment of the edge app: bindings, and what a request carries between handlers. */
export type EdgeEnv = { Bindings: Record<string, unknown>; Variables: EdgeVariables };

/** Cloudflare's ray ids are hex and a colo code (`8f1c2d3e4a5b6c7d-LHR`); anything else is made up by a client. */
const RAY_ID = /^[A-Za-z0-9-]{8,64}$/;

export function requestIdOf(headers: Headers): string {
  const ray = headers.get("cf-ray");
  return ray && RAY_ID.test(ray) ? ray : crypto.randomUUID();
}

/** The pattern of the route that answered; Hono names the catch-all middleware's `/*` when no route did. */
function routeOf(c: Context<EdgeEnv>): string {
  const path = c.req.routePath;
  return !path || path === "/*" ? "unmatched" : path;
}

function coloOf(request: Request): string {
  const colo = (request as { cf?: { colo?: unknown } }).cf?.colo;
  return typeof colo === "string" && colo ? colo : "none";
}

export interface RequestTelemetryOptions {
  readonly telemetryOf: (env: Record<string, unknown>) => EdgeTelemetry;
  /** How long ago the isolate last read the invalidation log, read after the answer; undefined when unknown. */
  readonly syncAgeOf: (env: Record<string, unknown>) => number | undefined;
}

export function requestTelemetry(options: RequestTelemetryOptions): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const telemetry = options.telemetryOf(c.env);
    const started = telemetry.clock.now();
    const requestId = requestIdOf(c.req.raw.headers);
    c.set("requestId", requestId);
    await next();
    const { status, headers } = c.res;
    const tier = headers.get("x-cache") ?? "none";
    const observation: RequestObservation = {
      route: routeOf(c),
      method: c.req.method,
      dataClass: c.get("dataClass") ?? "none",
      tier,
      status,
      stale: headers.get("x-cache-stale") ?? "none",
      colo: coloOf(c.req.raw),
      outcome: outcomeOf(tier, status),
      latencyMs: telemetry.clock.now() - started,
      syncAgeMs: options.syncAgeOf(c.env),
    };
    telemetry.recordRequest(observation, requestId, c.req.path);
  };
}
