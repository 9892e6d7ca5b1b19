/**
 * Bad input: a 400 JSON naming the parameter, and nothing asked of the origin or Redis.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { edgeGet, keysUnder, makeTestApp, originCount } from "./support";

const BAD_REQUESTS: ReadonlyArray<readonly [path: string, parameter: string]> = [
  ["/v1/gpus?status=sleeping", "status"],
  ["/v1/gpus?limit=0", "limit"],
  ["/v1/gpus?limit=501", "limit"],
  ["/v1/gpus?limit=abc", "limit"],
  ["/v1/gpus?limit=2.5", "limit"],
  ["/v1/gpus?sort=cheapest", "sort"],
  ["/v1/gpus?region=us%20east", "region"],
  ["/v1/gpus?region=us:east", "region"],
  ["/v1/gpus?type=RTX*", "type"],
  ["/v1/pricing?type=RTX-4090&region=..%2Fadmin", "region"],
  ["/v1/market/stats?region=eu-west&type=a%0Ab", "type"],
  ["/v1/orderbook/RTX-3090?region=us-east!", "region"],
  ["/v1/gpus/bad$id", "gpuId"],
  ["/v1/gpus/gpu%3A1", "gpuId"],
  ["/v1/gpus/.hidden", "gpuId"],
  [`/v1/gpus/${"g".repeat(129)}`, "gpuId"],
  ["/v1/providers/-prov", "providerId"],
  ["/v1/orderbook/RTX%204090", "gpuType"],
];

async function expectBadRequest(response: Response, parameter: string, path: string): Promise<void> {
  expect(response.status, path).toBe(400);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("X-Cache")).toBe("BYPASS");
  expect(response.headers.get("Cache-Tag")).toBeNull();
  expect(response.headers.get("ETag")).toBeNull();
  const body = (await response.json()) as { error?: unknown };
  expect(typeof body.error).toBe("string");
  expect(body.error as string, path).toMatch(new RegExp(`(^|; )${parameter}: `));
}

describe("bad input", () => {
  it.each(BAD_REQUESTS)(
    "%s → 400 naming %s, nothing fetched, nothing in Redis (app instance)",
    async (path, parameter) => {
      const app = makeTestApp();
      await expectBadRequest(await app.get(path), parameter, path);
      expect(app.origin.count()).toBe(0);
      expect(app.cache.stats.redisCommands).toBe(0);
      expect(await keysUnder(app.keys)).toEqual([]);
      expect(app.cache.l1Usage.entries).toBe(0);
    },
  );

  it("every problem of a request is named, not just the first", async () => {
    const app = makeTestApp();
    const response = await app.get("/v1/gpus?status=sleeping&limit=0&sort=cheapest");
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: string };
    expect(error).toMatch(/status: /);
    expect(error).toMatch(/limit: /);
    expect(error).toMatch(/sort: /);
  });

  it("the real Worker answers the same 400s and never asks the origin", async () => {
    const paths = ["/v1/orderbook/RTX-3090", "/v1/providers/-prov", "/v1/gpus/bad$id"];
    const before = await Promise.all(paths.map(originCount));
    for (const [path, parameter] of BAD_REQUESTS)
      await expectBadRequest(await edgeGet(path), parameter, path);
    expect(await Promise.all(paths.map(originCount))).toEqual(before);
  });
});
