/**
 * docs/architecture.md "Failure behaviour", with app instances whose origin the test controls and,
 * where Redis must be down, a Redis URL nothing listens on. A manual clock moves copies
 * past their fresh time, max age and stale-if-error limit without waiting.
 */
import { describe, expect, it } from "vitest";
import { makeTestApp, originText, redis } from "./support";

/** Nothing listens on port 1: every Redis call fails at once (workerd logs each refused connection). */
const UNREACHABLE_REDIS = { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1" };
/** The REST endpoint refuses every command (401): the same failure to the engine, without the log noise. */
const FAILING_REDIS = { UPSTASH_REDIS_REST_TOKEN: "not-the-bridge-token" };

const GPU_CACHE_CONTROL = "public, max-age=30, s-maxage=1, stale-if-error=600";
/** The gpu class: fresh 30 s, max 2 min, stale-if-error 10 min. */
const GPU_FRESH_MS = 30_000;
const GPU_MAX_MS = 120_000;
const GPU_STALE_IF_ERROR_MS = 600_000;

interface Health {
  status: string;
  reason: string | null;
  redis: { reachable: boolean; circuit: string };
  lastInvalidationSyncAgoMs: number | null;
  isolateAgeMs: number;
}

const OPERATOR_TOKEN = "operator-token-0123456789";

/** What public health may show: every field a fixed word or a number, nothing of Redis's own text. */
function expectNoDetail(health: Health): void {
  expect(Object.keys(health).sort()).toEqual([
    "isolateAgeMs",
    "lastInvalidationSyncAgoMs",
    "reason",
    "redis",
    "status",
  ]);
  expect(Object.keys(health.redis).sort()).toEqual(["circuit", "reachable"]);
  const text = JSON.stringify(health);
  for (const leak of ["127.0.0.1", "command", "evalsha", "xread", "Unauthorized", "token", ":v1:"]) {
    expect(text.toLowerCase()).not.toContain(leak.toLowerCase());
  }
}

async function expectUnavailable(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("Cache-Tag")).toBeNull();
  expect(((await response.json()) as { error: string }).error).toMatch(/origin unavailable/);
}

describe("Redis down", () => {
  it("answers from the origin, then from L1, and /_cache/health says degraded with 503", async () => {
    const app = makeTestApp({ bindingOverrides: UNREACHABLE_REDIS });
    const path = "/v1/gpus/gpu-00301";
    const body = await originText(path);

    const first = await app.get(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Cache")).toBe("ORIGIN");
    expect(await first.text()).toBe(body);
    expect(first.headers.get("Cache-Control")).toBe(GPU_CACHE_CONTROL);
    const second = await app.get(path);
    expect(second.headers.get("X-Cache")).toBe("L1");
    expect(await second.text()).toBe(body);

    const health = await app.get("/_cache/health");
    expect(health.status).toBe(503);
    expect(health.headers.get("Cache-Control")).toBe("no-store");
    const report = (await health.json()) as Health;
    expect(report.status).toBe("degraded");
    expect(report.reason).toBe("redis-unreachable");
    expect(report.redis).toEqual({ reachable: false, circuit: "closed" });
    expect(report.lastInvalidationSyncAgoMs).toBeNull();
    expectNoDetail(report);
    expect(app.cache.stats.redisErrors).toBeGreaterThanOrEqual(2);
  });

  it("a Redis that answers with errors: degraded for 'log-sync-failing', then 'circuit-open'; the error text only in /_cache/stats", async () => {
    const app = makeTestApp({ bindingOverrides: { ...FAILING_REDIS, OPERATOR_TOKEN } });
    // The log read and the L2 read fail: two failures, one short of opening the circuit.
    expect((await app.get("/v1/gpus/gpu-00315")).status).toBe(200);
    const failing = await app.get("/_cache/health");
    expect(failing.status).toBe(503);
    const failingReport = (await failing.json()) as Health;
    expect(failingReport).toMatchObject({
      status: "degraded",
      reason: "log-sync-failing",
      redis: { reachable: false, circuit: "closed" },
    });
    expectNoDetail(failingReport);

    expect((await app.get("/v1/gpus/gpu-00316")).status).toBe(200);
    const open = (await (await app.get("/_cache/health")).json()) as Health;
    expect(open).toMatchObject({ status: "degraded", reason: "circuit-open", redis: { circuit: "open" } });
    expectNoDetail(open);

    // The operator sees what failed, and how.
    const stats = (await (
      await app.get("/_cache/stats", { Authorization: `Bearer ${OPERATOR_TOKEN}` })
    ).json()) as {
      health: {
        lastSyncError: string;
        lastRedisFailure: { operation: string; kind: string; message: string; agoMs: number };
      };
    };
    expect(stats.health.lastSyncError).toEqual(expect.any(String));
    expect(stats.health.lastSyncError.length).toBeGreaterThan(0);
    expect(stats.health.lastRedisFailure).toEqual({
      operation: expect.any(String),
      kind: "error-reply",
      message: expect.any(String),
      agoMs: 0,
    });
  });

  it("the circuit opens: later misses stop calling Redis and still answer 200 from the origin", async () => {
    const app = makeTestApp({ bindingOverrides: FAILING_REDIS });
    for (const gpuId of ["gpu-00303", "gpu-00304", "gpu-00305"]) {
      expect((await app.get(`/v1/gpus/${gpuId}`)).status).toBe(200);
    }
    const health = (await (await app.get("/_cache/health")).json()) as Health;
    expect(health.redis.circuit).toBe("open");
    const commands = app.cache.stats.redisCommands;
    const response = await app.get("/v1/gpus/gpu-00306");
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Cache")).toBe("ORIGIN");
    expect(app.cache.stats.redisCommands).toBe(commands);
  });

  it("with the origin failing too, an L1 copy past its max age is served STALE, never a 5xx", async () => {
    const app = makeTestApp({ bindingOverrides: FAILING_REDIS });
    const path = "/v1/gpus/gpu-00307";
    const body = await (await app.get(path)).text();
    app.clock.advance(GPU_MAX_MS + 1_000);
    app.origin.failWith503();
    const stale = await app.get(path);
    expect(stale.status).toBe(200);
    expect(stale.headers.get("X-Cache")).toBe("STALE");
    expect(stale.headers.get("X-Cache-Stale")).toBe("error");
    expect(await stale.text()).toBe(body);
  });

  it("with the origin failing and nothing cached: 503 with Retry-After", async () => {
    const app = makeTestApp({ bindingOverrides: FAILING_REDIS });
    app.origin.failToConnect();
    await expectUnavailable(await app.get("/v1/gpus/gpu-00308"));
  });
});

describe("origin down (Redis up)", () => {
  it("an L1 copy past its max age is served STALE with X-Cache-Stale: error, up to stale-if-error, then 503", async () => {
    const app = makeTestApp();
    const gpuId = "gpu-00310";
    const path = `/v1/gpus/${gpuId}`;
    const first = await app.get(path);
    const body = await first.text();
    const etag = first.headers.get("ETag");
    // The L2 copy would be a usable answer of its own; this case is about L1's.
    await redis.del(app.keys.gpu(gpuId));

    app.clock.advance(GPU_MAX_MS + 1_000);
    for (const fail of [() => app.origin.failWith503(), () => app.origin.failToConnect()]) {
      fail();
      const stale = await app.get(path);
      expect(stale.status).toBe(200);
      expect(stale.headers.get("X-Cache")).toBe("STALE");
      expect(stale.headers.get("X-Cache-Stale")).toBe("error");
      expect(await stale.text()).toBe(body);
      expect(stale.headers.get("ETag")).toBe(etag);
      expect(stale.headers.get("Cache-Control")).toBe(GPU_CACHE_CONTROL);
      expect(stale.headers.get("Cache-Tag")).toBe(`gpu:${gpuId}`);
    }
    expect(app.cache.stats.staleServed.error).toBe(2);
    expect(app.cache.stats.originErrors).toBe(2);

    // Just inside max age + stale-if-error: still served.
    app.clock.advance(GPU_STALE_IF_ERROR_MS - 3_000);
    expect((await app.get(path)).headers.get("X-Cache")).toBe("STALE");
    // Past it: nothing usable is left.
    app.clock.advance(3_000);
    await expectUnavailable(await app.get(path));
  });

  it("an expired L1 copy with the record still in L2: answered from L2 without asking the origin", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus/gpu-00311";
    const body = await (await app.get(path)).text();
    app.clock.advance(GPU_MAX_MS + 1_000);
    app.origin.failWith503();
    const response = await app.get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Cache")).toBe("L2");
    expect(await response.text()).toBe(body);
    expect(app.origin.count()).toBe(1);
  });

  it("past fresh but within max age: STALE (revalidating) at once, refreshed in the background", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus/gpu-00312";
    const body = await (await app.get(path)).text();
    app.clock.advance(GPU_FRESH_MS + 1_000);
    const stale = await app.get(path);
    expect(stale.status).toBe(200);
    expect(stale.headers.get("X-Cache")).toBe("STALE");
    expect(stale.headers.get("X-Cache-Stale")).toBe("revalidating");
    expect(await stale.text()).toBe(body);
    expect(app.cache.stats.staleServed.revalidating).toBe(1);
    // The refresh ran in waitUntil (from L2, which holds the fill): fresh again.
    expect(app.cache.stats.hits.l2).toBe(1);
    expect((await app.get(path)).headers.get("X-Cache")).toBe("L1");
  });

  it("nothing cached: 503 with Retry-After, whether the origin answers 5xx or cannot be reached", async () => {
    const app = makeTestApp();
    app.origin.failWith503();
    await expectUnavailable(await app.get("/v1/gpus/gpu-00313"));
    app.origin.failToConnect();
    await expectUnavailable(await app.get("/v1/pricing?type=A10G&region=us-west"));
    expect(app.cache.l1Usage.entries).toBe(0);
    // The pricing read, and the two reference lists its region and type could not be checked against.
    expect(app.cache.stats.originErrors).toBe(4);
    expect(app.services.references.stats).toEqual({ checked: 0, refused: 0, unchecked: 2 });
  });

  it("an origin that does not answer within ORIGIN_TIMEOUT_MS gives 503, not a hang", async () => {
    const app = makeTestApp({ bindingOverrides: { ORIGIN_TIMEOUT_MS: "50" } });
    app.origin.handler = (_path, init) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new Error("aborted")));
      });
    const started = Date.now();
    await expectUnavailable(await app.get("/v1/gpus/gpu-00314"));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a request with credentials while the origin cannot be reached: 503 with Retry-After", async () => {
    const app = makeTestApp();
    app.origin.failToConnect();
    await expectUnavailable(await app.get("/v1/bookings", { Authorization: "Bearer t" }));
  });
});
