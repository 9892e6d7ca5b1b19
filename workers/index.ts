/**
 * The edge Worker. At this stage a thin read-through of one route
 * (`GET /v1/gpus/:gpuId`): Redis through the Upstash REST API, then the origin
 * on a miss, filling Redis. The tiered-cache engine replaces this path.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { Hono } from "hono";
import { createKeyspace, type Keyspace } from "../core/keys";
import { parseWorkerConfig, type WorkerConfig, WorkerConfigError } from "./config";

/** Seconds a GPU record filled from the origin stays in Redis (DESIGN data class `gpu`). */
const GPU_L2_TTL_SECONDS = 3600;

interface Services {
  readonly config: WorkerConfig;
  readonly redis: Redis;
  readonly keys: Keyspace;
}

// Built once per isolate: an isolate serves many requests with the same bindings.
const servicesByEnv = new WeakMap<object, Services>();

function services(env: Record<string, unknown>): Services {
  let built = servicesByEnv.get(env);
  if (!built) {
    const config = parseWorkerConfig(env);
    built = {
      config,
      redis: new Redis({ url: config.redisUrl, token: config.redisToken }),
      keys: createKeyspace(config.keyPrefix),
    };
    servicesByEnv.set(env, built);
  }
  return built;
}

const app = new Hono<{ Bindings: Record<string, unknown> }>();

app.get("/v1/gpus/:gpuId", async (c) => {
  const { config, redis, keys } = services(c.env);
  const gpuId = c.req.param("gpuId");
  const key = keys.gpu(gpuId);
  const cached = await redis.get<unknown>(key);
  if (cached !== null) {
    return c.json(cached, 200, { "X-Cache": "L2" });
  }
  const origin = await fetch(`${config.originUrl}/v1/gpus/${encodeURIComponent(gpuId)}`);
  if (!origin.ok) {
    return c.json({ error: `origin answered ${origin.status}` }, origin.status === 404 ? 404 : 502, {
      "X-Cache": "BYPASS",
    });
  }
  const body = await origin.json();
  await redis.set(key, body, { ex: GPU_L2_TTL_SECONDS });
  return c.json(body, 200, { "X-Cache": "ORIGIN" });
});

app.notFound((c) => c.json({ error: "Not found" }, 404));

app.onError((error, c) => {
  if (error instanceof WorkerConfigError) return c.json({ error: error.message }, 500);
  console.error("edge worker error", error);
  return c.json({ error: "internal error" }, 500);
});

export default app;
