/**
 * Made-up values cost the origin nothing, or once: an unknown region or GPU type is a 400
 * checked against the reference lists the edge caches (workers/reference-catalog.ts), and an
 * unknown id's 404 answers again from the isolate's memory for NEGATIVE_CACHE_MS, never from L2.
 * Every origin fetch is counted (the app instances' TestOrigin, the shared origin's counters).
 * Keys used here are used by no other test file.
 */
import { describe, expect, it, vi } from "vitest";
import { REFERENCE_RETRY_MS } from "../../workers/reference-catalog";
import { edgeGet, keysUnder, lambdaWrite, makeTestApp, ORIGIN_URL, originCount } from "./support";

/** The Worker's default NEGATIVE_CACHE_MS and L1_SYNC_INTERVAL_MS. */
const NEGATIVE_CACHE_MS = 5_000;
const SYNC_INTERVAL_MS = 500;

async function expectUnknown(response: Response, problems: readonly string[]): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("X-Cache")).toBe("BYPASS");
  expect(response.headers.get("ETag")).toBeNull();
  expect(response.headers.get("Cache-Tag")).toBeNull();
  expect(await response.json()).toEqual({ error: problems.join("; ") });
}

describe("unknown regions and GPU types", () => {
  it("100 made-up regions → 100 × 400 naming the value, one origin fetch (the region list), one L2 key (that list)", async () => {
    const app = makeTestApp();
    for (let index = 0; index < 100; index += 1) {
      const region = `zz-made-up-${index}`;
      await expectUnknown(await app.get(`/v1/gpus?region=${region}`), [`region: unknown region "${region}"`]);
    }
    expect(app.origin.calls.map((call) => call.path)).toEqual(["/v1/regions"]);
    expect(await keysUnder(app.keys)).toEqual([app.keys.reference("regions")]);
    expect(app.services.references.stats).toEqual({ checked: 100, refused: 100, unchecked: 0 });
  });

  it.each<[path: string, problems: string[]]>([
    ["/v1/gpus?type=TPU-v5", ['type: unknown GPU type "TPU-v5"']],
    ["/v1/gpus?region=mars-1&type=RTX-4090", ['region: unknown region "mars-1"']],
    [
      "/v1/pricing?type=TPU-v5&region=mars-1",
      ['region: unknown region "mars-1"', 'type: unknown GPU type "TPU-v5"'],
    ],
    ["/v1/market/stats?region=mars-1", ['region: unknown region "mars-1"']],
    ["/v1/orderbook/TPU-v5", ['gpuType: unknown GPU type "TPU-v5"']],
    ["/v1/orderbook/A10G?region=mars-1", ['region: unknown region "mars-1"']],
  ])("%s → 400 naming every unknown value; no data is fetched", async (path, problems) => {
    const app = makeTestApp();
    await expectUnknown(await app.get(path), problems);
    expect(app.origin.dataCalls()).toEqual([]);
  });

  it("known values pass, and the lists are read from L1 after the first request", async () => {
    const app = makeTestApp();
    for (const path of [
      "/v1/gpus?region=us-east&type=RTX-4090",
      "/v1/pricing?type=A10G&region=eu-west",
      "/v1/market/stats?region=ap-southeast",
      "/v1/orderbook/L40S?region=us-west",
    ]) {
      expect((await app.get(path)).status, path).toBe(200);
    }
    expect(app.origin.count("/v1/regions")).toBe(1);
    expect(app.origin.count("/v1/gpu-types")).toBe(1);
    expect(app.services.references.stats).toMatchObject({ refused: 0, unchecked: 0 });
  });

  it("a cold isolate: 50 concurrent requests naming a region share one read of the list", async () => {
    const app = makeTestApp();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const proxy = app.origin.handler;
    app.origin.handler = async (path, init) => {
      if (path === "/v1/regions") await gate;
      return proxy(path, init);
    };
    const pending = Array.from({ length: 50 }, (_, index) =>
      app.get(`/v1/gpus?region=us-east&limit=${index + 1}`, {}, false),
    );
    await vi.waitFor(
      () => {
        expect(app.origin.count("/v1/regions")).toBe(1);
        // Every request has missed L1 for the list and joined the one read.
        expect(app.cache.stats.misses.l1).toBe(50);
      },
      { timeout: 5_000, interval: 5 },
    );
    release();
    for (const response of await Promise.all(pending)) expect(response.status).toBe(200);
    expect(app.origin.count("/v1/regions")).toBe(1);
  });

  it("lists that cannot be had: valid-looking values pass unchecked, and the list is asked again only after REFERENCE_RETRY_MS", async () => {
    const app = makeTestApp();
    const proxy = app.origin.handler;
    let referenceDown = true;
    app.origin.handler = (path, init) =>
      referenceDown && path === "/v1/regions"
        ? new Response('{"error":"down"}', { status: 503 })
        : proxy(path, init);

    for (let limit = 1; limit <= 10; limit += 1) {
      expect((await app.get(`/v1/gpus?region=us-east&limit=${limit}`)).status).toBe(200);
    }
    expect(app.origin.count("/v1/regions")).toBe(1);
    expect(app.services.references.stats).toEqual({ checked: 0, refused: 0, unchecked: 10 });

    app.clock.advance(REFERENCE_RETRY_MS);
    expect((await app.get("/v1/gpus?region=us-east&limit=11")).status).toBe(200);
    expect(app.origin.count("/v1/regions")).toBe(2);

    // Back again: checked once more.
    referenceDown = false;
    app.clock.advance(REFERENCE_RETRY_MS);
    await expectUnknown(await app.get("/v1/gpus?region=zz-after"), ['region: unknown region "zz-after"']);
    expect(app.origin.count("/v1/regions")).toBe(3);
  });

  it("the real Worker: made-up GPU types never reach the origin", async () => {
    const paths = Array.from({ length: 20 }, (_, index) => `/v1/orderbook/ZZ-UNKNOWN-${index}`);
    for (const path of paths) {
      await expectUnknown(await edgeGet(path), [`gpuType: unknown GPU type "${path.slice(14)}"`]);
    }
    expect(await Promise.all(paths.map(originCount))).toEqual(paths.map(() => 0));
  });
});

describe("unknown ids (negative entries)", () => {
  it("50 requests for an unknown GPU → one origin fetch per NEGATIVE_CACHE_MS, each answer the origin's 404, no L2 key", async () => {
    const app = makeTestApp();
    const path = "/v1/gpus/gpu-neg-0001";
    const body = await (await fetch(`${ORIGIN_URL}${path}`)).text();
    const responses: Response[] = [];
    for (let index = 0; index < 50; index += 1) responses.push(await app.get(path));
    expect(app.origin.count()).toBe(1);
    for (const [index, response] of responses.entries()) {
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(body);
      expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(response.headers.get("CDN-Cache-Control")).toBeNull();
      expect(response.headers.get("ETag")).toBeNull();
      expect(response.headers.get("Cache-Tag")).toBeNull();
      expect(response.headers.get("X-Cache")).toBe(index === 0 ? "ORIGIN" : "L1");
    }
    expect(app.cache.stats.negativeHits).toBe(49);
    expect(await keysUnder(app.keys)).toEqual([]);

    app.clock.advance(NEGATIVE_CACHE_MS - 1);
    expect((await app.get(path)).status).toBe(404);
    expect(app.origin.count()).toBe(1);
    app.clock.advance(1);
    expect((await app.get(path)).headers.get("X-Cache")).toBe("ORIGIN");
    expect(app.origin.count()).toBe(2);
  });

  it("50 concurrent requests for an unknown provider share one origin fetch", async () => {
    const app = makeTestApp();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => app.get("/v1/providers/prov-neg-0001")),
    );
    for (const response of responses) expect(response.status).toBe(404);
    expect(app.origin.count()).toBe(1);
  });

  it("NEGATIVE_CACHE_MS sets the period; 0 keeps no 404", async () => {
    const short = makeTestApp({ bindingOverrides: { NEGATIVE_CACHE_MS: "1000" } });
    const off = makeTestApp({ bindingOverrides: { NEGATIVE_CACHE_MS: "0" } });
    const path = "/v1/gpus/gpu-neg-0002";
    for (const app of [short, off]) {
      await app.get(path);
      await app.get(path);
    }
    expect(short.origin.count()).toBe(1);
    expect(off.origin.count()).toBe(2);
    short.clock.advance(1_000);
    await short.get(path);
    expect(short.origin.count()).toBe(2);
  });

  it("a GPU created by an event is served within the sync interval, not hidden for the negative period", async () => {
    const app = makeTestApp();
    const gpuId = "gpu-neg-0003";
    const path = `/v1/gpus/${gpuId}`;
    expect((await app.get(path)).status).toBe(404);
    const body = JSON.stringify({ gpuId, status: "available", version: 1 });
    await lambdaWrite(app.keys, app.keys.gpu(gpuId), {
      version: 1,
      body,
      tags: [`gpu:${gpuId}`],
      storedAt: Date.now(),
    });
    app.clock.advance(SYNC_INTERVAL_MS);
    const created = await app.get(path);
    expect(created.status).toBe(200);
    expect(await created.text()).toBe(body);
    expect(created.headers.get("X-Cache")).toBe("L2");
    expect(app.origin.count()).toBe(1);
  });

  it("a run of made-up ids adds no L2 key, and the negative entries stay within NEGATIVE_CACHE_MAX_BYTES", async () => {
    const app = makeTestApp({ bindingOverrides: { NEGATIVE_CACHE_MAX_BYTES: "8192" } });
    for (let index = 0; index < 100; index += 1) {
      expect((await app.get(`/v1/gpus/gpu-neg-run-${index}`)).status).toBe(404);
    }
    expect(app.origin.count()).toBe(100);
    expect(await keysUnder(app.keys)).toEqual([]);
    const { negative } = app.cache.memory;
    expect(negative.maxBytes).toBe(8192);
    expect(negative.bytes).toBeLessThanOrEqual(8192);
    expect(negative.entries).toBeLessThan(100);
  });

  it("the real Worker: 50 requests for an unknown GPU → one origin fetch", async () => {
    const path = "/v1/gpus/gpu-neg-real-1";
    const before = await originCount(path);
    for (let index = 0; index < 50; index += 1) expect((await edgeGet(path)).status).toBe(404);
    expect(await originCount(path)).toBe(before + 1);
  });
});
