/**
 * What operators see and set: `/_cache/health`, `/_cache/stats` (operator token) and the
 * Worker's configuration from its bindings (workers/config.ts via buildServices).
 * Keys used here are used by no other test file.
 */
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TieredCache } from "../../core/cache/tiered-cache";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import { createEdgeApp } from "../../workers/app";
import { WorkerConfigError } from "../../workers/config";
import { buildServices } from "../../workers/index";
import { bindings, edgeGet, makeTestApp, ORIGIN_URL, redis } from "./support";

const OPERATOR_TOKEN = "operator-token-0123456789";

interface Stats {
  hits: { l1: number; l2: number; origin: number };
  misses: { l1: number; l2: number };
  staleServed: { revalidating: number; error: number };
  bypass: number;
  redisCommands: number;
  redisErrors: number;
  originErrors: number;
  l1: { entries: number; bytes: number };
  health: { circuit: string };
}

function configErrorOf(env: Record<string, unknown>): WorkerConfigError {
  try {
    buildServices(env);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerConfigError);
    return error as WorkerConfigError;
  }
  throw new Error("buildServices accepted the configuration");
}

describe("/_cache/health", () => {
  it("the real Worker: 200 with status, reason, redis, last invalidation sync and isolate age", async () => {
    // A read makes sure this isolate has synced with the invalidation log at least once.
    expect((await edgeGet("/v1/gpus/gpu-00501")).status).toBe(200);
    const response = await edgeGet("/_cache/health");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const health = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(health).sort()).toEqual([
      "isolateAgeMs",
      "lastInvalidationSyncAgoMs",
      "reason",
      "redis",
      "status",
    ]);
    expect(health).toEqual({
      status: "ok",
      reason: null,
      redis: { reachable: true, circuit: "closed" },
      lastInvalidationSyncAgoMs: expect.any(Number),
      isolateAgeMs: expect.any(Number),
    });
    expect(health.lastInvalidationSyncAgoMs).toBeGreaterThanOrEqual(0);
    expect(health.isolateAgeMs).toBeGreaterThanOrEqual(health.lastInvalidationSyncAgoMs as number);
  });

  it("ages follow the isolate's clock (app instance)", async () => {
    const app = makeTestApp();
    const before = (await (await app.get("/_cache/health")).json()) as Record<string, unknown>;
    expect(before.lastInvalidationSyncAgoMs).toBeNull();
    expect(before.isolateAgeMs).toBe(0);
    // Nothing has talked to Redis yet: reachability is unknown, not claimed.
    expect(before.redis).toEqual({ reachable: null, circuit: "closed" });

    app.clock.advance(1_000);
    expect((await app.get("/v1/gpus/gpu-00502")).status).toBe(200);
    app.clock.advance(1_234);
    const response = await app.get("/_cache/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ok",
      reason: null,
      redis: { reachable: true, circuit: "closed" },
      lastInvalidationSyncAgoMs: 1_234,
      isolateAgeMs: 2_234,
    });
  });
});

describe("/_cache/stats", () => {
  it("the real Worker has no OPERATOR_TOKEN, so its stats stay closed to everyone", async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { Authorization: "Bearer some-token-long-enough" },
      { Authorization: "Bearer undefined" },
    ];
    for (const headers of attempts) {
      const response = await edgeGet("/_cache/stats", headers);
      expect(response.status).toBe(401);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(await response.json()).toEqual({ error: "operator token required" });
    }
  });

  it("401 without the operator token or with a wrong one", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    for (const authorization of [
      undefined,
      "Bearer wrong-token-0123456789",
      `Bearer ${OPERATOR_TOKEN}x`,
      `Basic ${OPERATOR_TOKEN}`,
      OPERATOR_TOKEN,
      "Bearer ",
    ]) {
      const response = await app.get("/_cache/stats", authorization ? { Authorization: authorization } : {});
      expect(response.status, authorization).toBe(401);
      expect(await response.json()).toEqual({ error: "operator token required" });
    }
  });

  it("200 with the token; hits per tier, L1 size, Redis commands, stale serves and errors move with requests", async () => {
    const app = makeTestApp({ bindingOverrides: { OPERATOR_TOKEN } });
    const stats = async (): Promise<Stats> => {
      const response = await app.get("/_cache/stats", { Authorization: `Bearer ${OPERATOR_TOKEN}` });
      expect(response.status).toBe(200);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      return (await response.json()) as Stats;
    };

    const initial = await stats();
    expect(initial).toMatchObject({
      hits: { l1: 0, l2: 0, origin: 0 },
      misses: { l1: 0, l2: 0 },
      staleServed: { revalidating: 0, error: 0 },
      redisCommands: 0,
      redisErrors: 0,
      originErrors: 0,
      l1: { entries: 0, bytes: 0 },
      health: { circuit: "closed" },
    });

    const gpuPath = "/v1/gpus/gpu-00503";
    await app.get(gpuPath);
    const afterMiss = await stats();
    expect(afterMiss.hits).toEqual({ l1: 0, l2: 0, origin: 1 });
    expect(afterMiss.misses).toEqual({ l1: 1, l2: 1 });
    // The log read, the L2 read, the tag-version read (the miss's origin path), the L2 fill.
    expect(afterMiss.redisCommands).toBe(4);
    expect(afterMiss.l1.entries).toBe(1);
    expect(afterMiss.l1.bytes).toBeGreaterThan(0);

    await app.get(gpuPath);
    const afterHit = await stats();
    expect(afterHit.hits).toEqual({ l1: 1, l2: 0, origin: 1 });
    expect(afterHit.redisCommands).toBe(4);

    await app.get("/v1/regions");
    const afterSecondKey = await stats();
    expect(afterSecondKey.l1.entries).toBe(2);
    expect(afterSecondKey.l1.bytes).toBeGreaterThan(afterHit.l1.bytes);

    // Past fresh: served stale while a refresh (from L2) runs.
    app.clock.advance(31_000);
    expect((await app.get(gpuPath)).headers.get("X-Cache")).toBe("STALE");
    const afterRevalidate = await stats();
    expect(afterRevalidate.staleServed.revalidating).toBe(1);
    expect(afterRevalidate.hits.l2).toBe(1);

    // Past max age with the origin down and no L2 copy: served stale on error, which counts as an error too.
    await redis.del(app.keys.gpu("gpu-00503"));
    app.clock.advance(121_000);
    app.origin.failWith503();
    expect((await app.get(gpuPath)).headers.get("X-Cache")).toBe("STALE");
    const afterError = await stats();
    expect(afterError.staleServed.error).toBe(1);
    expect(afterError.originErrors).toBe(1);
    expect(afterError.redisErrors).toBe(0);
  });

  it("Redis errors are counted", async () => {
    const app = makeTestApp({
      bindingOverrides: { OPERATOR_TOKEN, UPSTASH_REDIS_REST_TOKEN: "not-the-bridge-token" },
    });
    expect((await app.get("/v1/gpus/gpu-00504")).status).toBe(200);
    const response = await app.get("/_cache/stats", { Authorization: `Bearer ${OPERATOR_TOKEN}` });
    const stats = (await response.json()) as Stats;
    // The log read and the L2 read failed; no fill was tried without a log cursor.
    expect(stats.redisErrors).toBe(2);
    expect(stats.hits.origin).toBe(1);
  });
});

describe("configuration (buildServices)", () => {
  it("no bindings at all: one WorkerConfigError naming every required one", () => {
    const error = configErrorOf({});
    for (const name of ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "ORIGIN_URL"]) {
      expect(error.message).toContain(`${name}: `);
    }
  });

  it("every invalid binding is named in the one error", () => {
    const error = configErrorOf({
      UPSTASH_REDIS_REST_URL: "redis://127.0.0.1:6379",
      UPSTASH_REDIS_REST_TOKEN: "",
      ORIGIN_URL: "not a url",
      KEY_PREFIX: "bad prefix!",
      L1_SYNC_INTERVAL_MS: "0",
      L1_MAX_BYTES: "lots",
      L1_MAX_ENTRIES: "-1",
      L2_SOFT_TIMEOUT_MS: "1.5",
      ORIGIN_TIMEOUT_MS: "soon",
      OPERATOR_TOKEN: "short",
      CACHE_POLICIES: '{"availability":{"l1FreshMs":-1},"bogus":{}}',
    });
    expect(error.name).toBe("WorkerConfigError");
    for (const name of [
      "UPSTASH_REDIS_REST_URL",
      "UPSTASH_REDIS_REST_TOKEN",
      "ORIGIN_URL",
      "KEY_PREFIX",
      "L1_SYNC_INTERVAL_MS",
      "L1_MAX_BYTES",
      "L1_MAX_ENTRIES",
      "L2_SOFT_TIMEOUT_MS",
      "ORIGIN_TIMEOUT_MS",
      "OPERATOR_TOKEN",
    ]) {
      expect(error.message).toContain(`${name}: `);
    }
    expect(error.message).toContain("CACHE_POLICIES: availability.l1FreshMs");
    expect(error.message).toContain("CACHE_POLICIES: unknown data class 'bogus'");
    // Valid ones are not blamed.
    expect(error.message).not.toContain("L2_HARD_TIMEOUT_MS");
  });

  it("CACHE_POLICIES that is not JSON, and a soft timeout above the hard one, are refused", () => {
    expect(configErrorOf({ ...bindings, CACHE_POLICIES: "{availability:" }).message).toContain(
      "CACHE_POLICIES: not valid JSON",
    );
    const timeouts = configErrorOf({ ...bindings, L2_SOFT_TIMEOUT_MS: "500", L2_HARD_TIMEOUT_MS: "100" });
    expect(timeouts.message).toContain("L2_SOFT_TIMEOUT_MS");
    expect(timeouts.message).toContain("L2_HARD_TIMEOUT_MS");
  });

  it("a soft timeout above the hard one is reported together with the other problems", () => {
    const error = configErrorOf({
      ...bindings,
      L2_SOFT_TIMEOUT_MS: "500",
      L2_HARD_TIMEOUT_MS: "100",
      CACHE_POLICIES: '{"bogus":{}}',
    });
    expect(error.message).toContain("L2_SOFT_TIMEOUT_MS: must not exceed L2_HARD_TIMEOUT_MS");
    expect(error.message).toContain("unknown data class 'bogus'");
  });

  it("valid bindings build the services with the parsed values", () => {
    const services = buildServices({
      ...bindings,
      ORIGIN_URL: `${ORIGIN_URL}/`,
      KEY_PREFIX: "edge-x",
      L1_SYNC_INTERVAL_MS: "250",
      OPERATOR_TOKEN: "",
      CACHE_POLICIES: '{"availability":{"l1FreshMs":2000}}',
    });
    expect(services.cache).toBeInstanceOf(TieredCache);
    expect(services.keys.root).toBe("edge-x:v1:");
    expect(services.config.originUrl).toBe(ORIGIN_URL);
    expect(services.config.syncIntervalMs).toBe(250);
    expect(services.config.operatorToken).toBeUndefined();
    expect(services.config.policies.availability).toEqual({
      ...DEFAULT_DATA_CLASS_POLICIES.availability,
      l1FreshMs: 2000,
    });
    expect(services.config.policies.gpu).toEqual(DEFAULT_DATA_CLASS_POLICIES.gpu);
  });

  it("a Worker with a bad configuration answers 500 naming the problem", async () => {
    const app = createEdgeApp((env) => buildServices(env));
    const response = await app.request(
      "http://edge.test/v1/regions",
      {},
      { ...bindings, ORIGIN_URL: "ftp://origin" },
      createExecutionContext(),
    );
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toContain("ORIGIN_URL");
  });
});
