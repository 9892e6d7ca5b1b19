/**
 * The edge API as a Hono app. Services (cache engine, config) come from a getter
 * so the app is built once and tested with `app.request()`.
 */
import { Hono } from "hono";
import { LRUCache } from "lru-cache";
import { type CacheLookup, OriginUnavailableError, type TieredCache } from "../core/cache/tiered-cache";
import type { Keyspace } from "../core/keys";
import type { Clock } from "../core/time/clock";
import { CACHE_PURGE_PATH, cachePurgeHandler } from "./cache-purge";
import type { WorkerConfig } from "./config";
import { WorkerConfigError } from "./config";
import { cachingHeaders, etagMatches, serverTiming } from "./headers";
import { InvalidRequestError, routes } from "./routes";

export interface EdgeServices {
  readonly config: WorkerConfig;
  readonly cache: TieredCache;
  readonly keys: Keyspace;
  /** Direct origin fetch, for requests that must bypass every cache. */
  readonly fetchOrigin: (path: string, init?: RequestInit) => Promise<Response>;
  readonly clock: Clock;
  readonly logger: Pick<Console, "warn" | "error">;
}

type Env = { Bindings: Record<string, unknown> };

const RETRY_AFTER_SECONDS = 5;
const LOOKUP_MEMO_ENTRIES = 5_000;

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

export function createEdgeApp(getServices: (env: Record<string, unknown>) => EdgeServices): Hono<Env> {
  const app = new Hono<Env>();
  // Only valid URLs get here (a bad one throws before set); bounded, since URLs are attacker-chosen.
  const lookups = new LRUCache<string, CacheLookup>({ max: LOOKUP_MEMO_ENTRIES });

  for (const [pattern, resolve] of Object.entries(routes)) {
    app.get(pattern, async (c) => {
      const services = getServices(c.env);
      if (carriesCredentials(c.req.raw)) return passThrough(c.req.raw, services);
      // Hot URLs repeat: validating and normalising them once per isolate keeps L1 hits cheap.
      const memoKey = `${services.keys.root} ${c.req.url}`;
      let lookup = lookups.get(memoKey);
      if (!lookup) {
        lookup = resolve(c.req.param() as Record<string, string>, queryOf(c.req.url), services.keys);
        lookups.set(memoKey, lookup);
      }
      const answer = await services.cache.get(lookup, c.executionCtx);
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

  app.get("/_cache/health", (c) => {
    const { cache } = getServices(c.env);
    const health = cache.health;
    const healthy = health.circuit === "closed" && health.lastSyncError === undefined;
    return c.json(
      {
        status: healthy ? "ok" : "degraded",
        redis: {
          // Unknown (null) until this isolate has talked to Redis: health checks send no command of their own.
          reachable: health.lastSyncAgoMs === undefined && healthy ? null : healthy,
          circuit: health.circuit,
          lastError: health.lastSyncError ?? null,
        },
        lastInvalidationSyncAgoMs: health.lastSyncAgoMs ?? null,
        isolateAgeMs: health.isolateAgeMs,
      },
      healthy ? 200 : 503,
      { "Cache-Control": "no-store" },
    );
  });

  app.get("/_cache/stats", (c) => {
    const { cache, config } = getServices(c.env);
    const expected = config.operatorToken;
    if (!expected || c.req.header("authorization") !== `Bearer ${expected}`) {
      return c.json({ error: "operator token required" }, 401, { "Cache-Control": "no-store" });
    }
    return c.json({ ...cache.stats, l1: cache.l1Usage, health: cache.health }, 200, {
      "Cache-Control": "no-store",
    });
  });

  // Purges the cache in front of this Worker (Workers Cache); 404 without PURGE_WEBHOOK_SECRETS.
  app.post(
    CACHE_PURGE_PATH,
    cachePurgeHandler((env) => {
      const { config, clock, logger } = getServices(env);
      return {
        secrets: config.purgeSecrets,
        edgeCachePurgeUrl: config.edgeCachePurgeUrl,
        nowSeconds: () => Math.floor(clock.now() / 1000),
        logger,
      };
    }),
  );

  app.notFound((c) => c.json({ error: "Not found" }, 404, { "Cache-Control": "no-store" }));

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
    if (error instanceof WorkerConfigError) {
      return c.json({ error: error.message }, 500, { "Cache-Control": "no-store" });
    }
    console.error("edge worker error", error);
    // A cache in front (Workers Cache) must not keep an error.
    return c.json({ error: "internal error" }, 500, { "Cache-Control": "no-store" });
  });

  return app;
}
