/**
 * Peer for the benchmark: the cache-aside Worker from the Upstash + Cloudflare tutorials.
 * One `@upstash/redis` GET per request; on a miss it fetches the origin and stores the body
 * with the TTL a CDN would give it (`s-maxage`, else `max-age`, else 60 s).
 *
 * The SET runs in `ctx.waitUntil`, as the tutorials do: the miss is answered without waiting
 * for Redis, so requests that arrive before the SET lands also miss and each go to the origin
 * (no request coalescing, no L1, no invalidation: an entry lives until its TTL ends).
 * Origin errors are passed through and never stored.
 */
import { Redis } from "@upstash/redis/cloudflare";

interface Env {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  ORIGIN_URL: string;
}

/** The part of workerd's ExecutionContext used here (the root tsconfig has no workers types). */
interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

const DEFAULT_TTL_SECONDS = 60;

// Built on the first request and kept for the isolate's life; bindings only exist inside fetch.
let redis: Redis | undefined;

function redisFor(env: Env): Redis {
  redis ??= new Redis({
    url: env.UPSTASH_REDIS_REST_URL,
    token: env.UPSTASH_REDIS_REST_TOKEN,
    // Raw strings in and out, so a hit returns the origin's bytes unchanged.
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  return redis;
}

/** Shared-cache lifetime from Cache-Control: s-maxage, then max-age, then the default. */
function ttlSeconds(cacheControl: string | null): number {
  const directive = (name: string) =>
    new RegExp(`(?:^|,)\\s*${name}\\s*=\\s*"?(\\d+)`, "i").exec(cacheControl ?? "")?.[1];
  const value = directive("s-maxage") ?? directive("max-age");
  return value === undefined ? DEFAULT_TTL_SECONDS : Number(value);
}

function json(body: string, status: number, cache: "HIT" | "MISS"): Response {
  return new Response(body, { status, headers: { "Content-Type": "application/json", "X-Cache": cache } });
}

export default {
  async fetch(request: Request, env: Env, ctx: WaitUntil): Promise<Response> {
    if (request.method !== "GET") return new Response("Method Not Allowed", { status: 405 });
    const { pathname, search } = new URL(request.url);
    const key = `naive:${pathname}${search}`;
    const client = redisFor(env);

    const cached = await client.get<string>(key);
    if (cached !== null) return json(cached, 200, "HIT");

    const origin = await fetch(`${env.ORIGIN_URL}${pathname}${search}`);
    const body = await origin.text();
    if (origin.status === 200) {
      const ttl = ttlSeconds(origin.headers.get("Cache-Control"));
      // SET ... EX 0 is an error in Redis; a zero lifetime means "do not store".
      if (ttl > 0) ctx.waitUntil(client.set(key, body, { ex: ttl }));
    }
    return json(body, origin.status, "MISS");
  },
};
