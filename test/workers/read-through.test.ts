import { env, exports } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { createKeyspace } from "../../core/keys";

const bindings = env as unknown as Record<string, string>;
const redis = new Redis({ url: bindings.UPSTASH_REDIS_REST_URL, token: bindings.UPSTASH_REDIS_REST_TOKEN });
const keys = createKeyspace();

function get(path: string): Promise<Response> {
  return exports.default.fetch(new Request(`http://edge.test${path}`));
}

describe("edge read-through (inside workerd)", () => {
  it("fills Redis from the origin on a miss, then answers from Redis", async () => {
    const originGpu = (await (await fetch(`${bindings.ORIGIN_URL}/v1/gpus/gpu-00007`)).json()) as {
      gpuId: string;
    };
    await redis.del(keys.gpu("gpu-00007"));

    const first = await get("/v1/gpus/gpu-00007");
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await first.json()).toEqual(originGpu);
    expect(await redis.get(keys.gpu("gpu-00007"))).toEqual(originGpu);

    const second = await get("/v1/gpus/gpu-00007");
    expect(second.headers.get("X-Cache")).toBe("L2");
    expect(await second.json()).toEqual(originGpu);
  });

  it("serves what Redis holds, not the origin, once the key is written", async () => {
    const planted = { gpuId: "gpu-00008", planted: true };
    await redis.set(keys.gpu("gpu-00008"), planted);
    const response = await get("/v1/gpus/gpu-00008");
    expect(response.headers.get("X-Cache")).toBe("L2");
    expect(await response.json()).toEqual(planted);
  });

  it("passes an origin 404 through without writing Redis", async () => {
    const response = await get("/v1/gpus/no-such-gpu");
    expect(response.status).toBe(404);
    expect(await redis.exists(keys.gpu("no-such-gpu"))).toBe(0);
  });
});
