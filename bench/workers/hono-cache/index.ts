/**
 * Peer for the benchmark: Hono with its built-in `hono/cache` middleware, i.e. the Workers
 * Cache API in front of the origin. The handler only runs on a miss; it returns the origin's
 * body, status and Cache-Control, and the Cache API decides the entry's lifetime from that
 * Cache-Control (shared cache: `s-maxage` wins over `max-age`). Only 200s are stored, and
 * `hono/cache` itself skips responses marked private/no-store/no-cache or with Set-Cookie.
 *
 * `wait: false` (the default, what Hono's docs show for Cloudflare): `cache.put` runs in
 * `ctx.waitUntil`, so the miss is answered without waiting for the store.
 *
 * The stored Cache-Control drops `stale-while-revalidate` and `stale-if-error`: Cloudflare's
 * Cache API does not serve stale entries, but Miniflare's keeps an entry for `s-maxage` plus
 * the larger stale window and serves it as a hit, which would make this peer look ten times
 * staler here (65 s instead of 5 s for a listing) than it is in production.
 *
 * `X-Cache` is set by an outer middleware from whether the handler ran, after `hono/cache`
 * has already cloned the response for storing, so stored entries never carry it.
 */
import { Hono } from "hono";
import { cache } from "hono/cache";

type AppEnv = { Bindings: { ORIGIN_URL: string }; Variables: { fromOrigin: boolean } };

const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  await next();
  c.res.headers.set("X-Cache", c.get("fromOrigin") ? "MISS" : "HIT");
});

app.get("*", cache({ cacheName: "gpu-edge-bench", wait: false }), async (c) => {
  c.set("fromOrigin", true);
  const { pathname, search } = new URL(c.req.url);
  const origin = await fetch(`${c.env.ORIGIN_URL}${pathname}${search}`);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const cacheControl = origin.headers.get("Cache-Control");
  if (cacheControl !== null) {
    headers["Cache-Control"] = cacheControl
      .split(",")
      .map((directive) => directive.trim())
      .filter((directive) => !/^stale-(while-revalidate|if-error)=/i.test(directive))
      .join(", ");
  }
  return new Response(origin.body, { status: origin.status, headers });
});

export default app;
