/**
 * The edge API as a Hono app. Services (cache engine, config) and telemetry come from
 * getters so the app is built once and tested with `app.request()`.
 */
import { type Context, Hono } from "hono";
import { InvalidSyncTokenError, parseSyncToken, type SyncToken } from "../core/cache/log-sync";
import { OriginUnavailableError, type TieredCache } from "../core/cache/tiered-cache";
import type { Keyspace } from "../core/keys";
import type { Clock } from "../core/time/clock";
import { CACHE_PURGE_PATH, cachePurgeHandler } from "./cache-purge";
import type { WorkerConfig } from "./config";
import { WorkerConfigError } from "./config";
import { cachingHeaders, etagMatches, SYNC_CURSOR_HEADER, SYNC_TOKEN_HEADER, serverTiming } from "./headers";
import { publicHealth } from "./health";
import { isolateMemory } from "./isolate-memory";
import type { LookupMemo } from "./lookup-memo";
import { metricsText } from "./metrics-page";
import type { ReferenceCatalog } from "./reference-catalog";
import { InvalidRequestError, routes } from "./routes";
import {
  createTelemetry,
  type EdgeEnv,
  type EdgeTelemetry,
  errorFields,
  PROMETHEUS_CONTENT_TYPE,
  requestTelemetry,
} from "./telemetry";

export interface EdgeServices {
  readonly config: WorkerConfig;
  readonly cache: TieredCache;
  readonly keys: Keyspace;
  /** Direct origin fetch, for requests that must bypass every cache. */
  readonly fetchOrigin: (path: string, init?: RequestInit) => Promise<Response>;
  readonly clock: Clock;
  /** The isolate's log, data point sink and counters (workers/telemetry/). */
  readonly telemetry: EdgeTelemetry;
  /** Request URL → its route's lookup, bounded in bytes (workers/lookup-memo.ts). */
  readonly lookups: LookupMemo;
  /** The known regions and GPU types (workers/reference-catalog.ts). */
  readonly references: ReferenceCatalog;
}

type Env = EdgeEnv;

const RETRY_AFTER_SECONDS = 5;
/**
 * Longer request URLs are refused (414) before any routing or lookup: no route needs more than
 * a few hundred characters, and every per-isolate structure keyed by URL would pay for the rest.
 */
export const MAX_REQUEST_URL_LENGTH = 4096;
const GET_METHODS = "GET, HEAD";
const NO_STORE = { "Cache-Control": "no-store" } as const;

/** Credentials mean a per-user answer: never from, or into, a shared tier. */
function carriesCredentials(request: Request): boolean {
  return request.headers.has("authorization") || request.headers.has("cookie");
}

function queryOf(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  // First value wins for a repeated parameter, as on the origin.
  for (const [name, value] of new URL(url).searchParams) if (!(name in query)) query[name] = value;
  // `?region=` means no filter, as on the origin (a browser form sends empty fields).
  for (const [name, value] of Object.entries(query)) if (value === "") delete query[name];
  return query;
}

/**
 * The request's `X-Sync-Token`, checked against the isolate's clock (core/cache/log-sync.ts
 * parseSyncToken: one `<ms>-<seq>`, not too long, not from the future); a bad one is a 400.
 */
function syncTokenOf(request: Request, clock: Clock): SyncToken | undefined {
  const raw = request.headers.get(SYNC_TOKEN_HEADER);
  if (raw === null) return undefined;
  try {
    // The clock only for a request that carries a token: every L1 hit passes here.
    return parseSyncToken(raw, clock.now());
  } catch (error) {
    if (error instanceof InvalidSyncTokenError)
      throw new InvalidRequestError(`${SYNC_TOKEN_HEADER}: ${error.message}`);
    throw error;
  }
}

/** What a per-user request may tell the origin; Host and hop-by-hop headers stay at the edge. */
const FORWARDED_HEADERS = ["authorization", "cookie", "accept", "accept-language", "user-agent"];

function forwardedHeaders(incoming: Headers): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

/** Straight to the origin and back, marked private: nothing is read from or written to a cache. */
async function passThrough(request: Request, services: EdgeServices): Promise<Response> {
  const url = new URL(request.url);
  let origin: Response;
  try {
    origin = await services.fetchOrigin(`${url.pathname}${url.search}`, {
      headers: forwardedHeaders(request.headers),
      signal: AbortSignal.timeout(services.config.originTimeoutMs),
    });
  } catch (error) {
    throw new OriginUnavailableError(`origin request failed for ${url.pathname}`, { cause: error });
  }
  const headers = new Headers({
    "Content-Type": origin.headers.get("content-type") ?? "application/json",
    "Cache-Control": "private, no-store",
    "X-Cache": "BYPASS",
  });
  // One header per cookie: joined with commas they would break (Expires contains one).
  for (const cookie of origin.headers.getSetCookie()) headers.append("Set-Cookie", cookie);
  // A 401 must say how to authenticate (RFC 9110 §15.5.2).
  const challenge = origin.headers.get("www-authenticate");
  if (challenge) headers.set("WWW-Authenticate", challenge);
  return new Response(origin.body, { status: origin.status, headers });
}

/** 405 for a method a known path does not take (RFC 9110 §15.5.6: with the methods it does). */
function methodNotAllowed(c: Context<Env>, allow: string): Response {
  return c.json({ error: `method ${c.req.method} not allowed; allowed: ${allow}` }, 405, {
    ...NO_STORE,
    Allow: allow,
    "X-Cache": "BYPASS",
  });
}

/** Operator endpoints take `Authorization: Bearer <OPERATOR_TOKEN>`; without the setting they stay closed. */
function operatorAuthorized(c: Context<Env>, config: WorkerConfig): boolean {
  const expected = config.operatorToken;
  return expected !== undefined && c.req.header("authorization") === `Bearer ${expected}`;
}

/**
 * `getTelemetry` defaults to the services' own. Telemetry must outlive a bad configuration
 * (each request then answers 500 and is still logged and counted), so when it cannot be had
 * a console-logging one, with points in memory, stands in.
 */
export function createEdgeApp(
  getServices: (env: Record<string, unknown>) => EdgeServices,
  getTelemetry: (env: Record<string, unknown>) => EdgeTelemetry = (env) => getServices(env).telemetry,
): Hono<Env> {
  const app = new Hono<Env>();
  let standIn: EdgeTelemetry | undefined;
  const telemetryOf = (env: Record<string, unknown>): EdgeTelemetry => {
    try {
      return getTelemetry(env);
    } catch {
      standIn ??= createTelemetry();
      return standIn;
    }
  };
  const syncAgeOf = (env: Record<string, unknown>): number | undefined => {
    try {
      return getServices(env).cache.health.lastSyncAgoMs;
    } catch {
      return undefined;
    }
  };

  // First, so every answer, the 414 below and the error handler's included, is observed once.
  app.use(requestTelemetry({ telemetryOf, syncAgeOf }));

  app.use(async (c, next) => {
    if (c.req.url.length > MAX_REQUEST_URL_LENGTH) {
      return c.json({ error: `request URL longer than ${MAX_REQUEST_URL_LENGTH} characters` }, 414, {
        ...NO_STORE,
        "X-Cache": "BYPASS",
      });
    }
    await next();
  });

  for (const [pattern, resolve] of Object.entries(routes)) {
    app.get(pattern, async (c) => {
      const services = getServices(c.env);
      // Checked first, so a bad token changes nothing whatever else the request holds.
      const syncToken = syncTokenOf(c.req.raw, services.clock);
      if (carriesCredentials(c.req.raw)) return passThrough(c.req.raw, services);
      // Hot URLs repeat: validating and normalising them once per isolate keeps L1 hits cheap.
      // Only valid URLs get here (a bad one throws before set).
      let lookup = services.lookups.get(c.req.url);
      if (!lookup) {
        lookup = resolve(c.req.param() as Record<string, string>, queryOf(c.req.url), services.keys);
        services.lookups.set(c.req.url, lookup);
      }
      c.set("dataClass", lookup.dataClass);
      // Made-up regions and GPU types would each cost an origin fetch and a key in L2.
      if (lookup.references) {
        const problems = await services.references.problems(lookup.references, c.executionCtx);
        if (problems.length > 0) throw new InvalidRequestError(problems.join("; "));
      }
      const answer = await services.cache.get(lookup, c.executionCtx, syncToken ? { syncToken } : {});
      const policy = services.config.policies[answer.dataClass];
      const headers: Record<string, string> = {
        "Content-Type": answer.contentType,
        "X-Cache": answer.source,
        "Server-Timing": serverTiming(answer.timings),
        ...cachingHeaders(answer, policy),
      };
      if (answer.staleReason) headers["X-Cache-Stale"] = answer.staleReason;
      if (answer.shareable) headers["Cache-Tag"] = answer.tags.join(",");
      if (answer.passHeaders?.["set-cookie"]) headers["Set-Cookie"] = answer.passHeaders["set-cookie"];
      // Where the token left this isolate: at or past it, unless the token named no entry of the log.
      const cursor = syncToken ? services.cache.health.cursor : undefined;
      if (cursor !== undefined) headers[SYNC_CURSOR_HEADER] = cursor;
      if (answer.etag) {
        headers.ETag = answer.etag;
        if (etagMatches(c.req.header("if-none-match"), answer.etag)) {
          const { "Content-Type": _type, ...notModified } = headers;
          return new Response(null, { status: 304, headers: notModified });
        }
      }
      return new Response(answer.body, { status: answer.status, headers });
    });
  }

  // Per-user data: always straight to the origin, never cached.
  app.get("/v1/bookings", (c) => passThrough(c.req.raw, getServices(c.env)));

  // Open to anyone: a word for why, never Redis's error text (that names commands and keys).
  app.get("/_cache/health", (c) => {
    const health = publicHealth(getServices(c.env).cache.health);
    return c.json(health, health.status === "ok" ? 200 : 503, NO_STORE);
  });

  app.get("/_cache/stats", (c) => {
    const services = getServices(c.env);
    if (!operatorAuthorized(c, services.config)) {
      return c.json({ error: "operator token required" }, 401, NO_STORE);
    }
    const { cache, references } = services;
    return c.json(
      {
        ...cache.stats,
        l1: cache.l1Usage,
        memory: isolateMemory(services),
        references: references.stats,
        health: cache.health,
      },
      200,
      NO_STORE,
    );
  });

  // The same numbers for a Prometheus scrape (workers/metrics-page.ts).
  app.get("/_cache/metrics", (c) => {
    const services = getServices(c.env);
    if (!operatorAuthorized(c, services.config)) {
      return c.json({ error: "operator token required" }, 401, NO_STORE);
    }
    return c.body(metricsText(services), 200, { ...NO_STORE, "Content-Type": PROMETHEUS_CONTENT_TYPE });
  });

  // Purges the cache in front of this Worker (Workers Cache); 404 without PURGE_WEBHOOK_SECRETS.
  app.post(
    CACHE_PURGE_PATH,
    cachePurgeHandler((env) => {
      const { config, clock, telemetry } = getServices(env);
      return {
        secrets: config.purgeSecrets,
        edgeCachePurgeUrl: config.edgeCachePurgeUrl,
        nowSeconds: () => Math.floor(clock.now() / 1000),
        audit: (entry) => telemetry.audit(entry),
      };
    }),
  );

  // Registered after every route, so a method a path does take is answered by its own handler
  // (HEAD by the GET one: Hono answers it with the GET response's headers, without the body).
  for (const path of [
    ...Object.keys(routes),
    "/v1/bookings",
    "/_cache/health",
    "/_cache/stats",
    "/_cache/metrics",
  ]) {
    app.all(path, (c) => methodNotAllowed(c, GET_METHODS));
  }
  // Without its secrets the purge endpoint does not exist, for any method.
  app.all(CACHE_PURGE_PATH, (c) =>
    getServices(c.env).config.purgeSecrets?.length ? methodNotAllowed(c, "POST") : c.notFound(),
  );

  app.notFound((c) => c.json({ error: "Not found" }, 404, NO_STORE));

  app.onError((error, c) => {
    if (error instanceof InvalidRequestError) {
      return c.json({ error: error.message }, 400, { "Cache-Control": "no-store", "X-Cache": "BYPASS" });
    }
    if (error instanceof OriginUnavailableError) {
      return c.json({ error: "origin unavailable and no cached copy is usable" }, 503, {
        "Cache-Control": "no-store",
        "Retry-After": String(RETRY_AFTER_SECONDS),
        "X-Cache": "BYPASS",
      });
    }
    const { log } = telemetryOf(c.env);
    const requestId = c.get("requestId");
    if (error instanceof WorkerConfigError) {
      log.error("config-error", { requestId, errorMessage: error.message, problems: error.problems.length });
      return c.json({ error: error.message }, 500, { "Cache-Control": "no-store" });
    }
    log.error("unhandled-error", { requestId, route: c.req.routePath, ...errorFields(error) });
    // A cache in front (Workers Cache) must not keep an error.
    return c.json({ error: "internal error" }, 500, { "Cache-Control": "no-store" });
  });

  return app;
}
