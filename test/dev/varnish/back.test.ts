/**
 * The back HTTP cache (dev/varnish/back.vcl, CloudFront's role) in a real varnishd, in front of a
 * backend each test scripts: the TTL from the origin's Cache-Control, the key with its query
 * string, X-Cache as CloudFront says it, stale copies, and invalidations applied as bans (by hand
 * and by the CloudFront fake once one completes).
 */
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
} from "@aws-sdk/client-cloudfront";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCloudFrontFake } from "../../../dev/fakes/cloudfront-fake";
import { freePort } from "../../../dev/support/ports";
import { type RunningVarnish, startVarnish } from "../../../dev/varnish/varnishd";
import { ManualClock } from "../../support/manual-clock";
import { ManualTimers } from "../../support/manual-timers";
import {
  answer,
  requestAsClient,
  type ScriptedBackend,
  startScriptedBackend,
  varnishdForTests,
} from "./fixtures";

const varnishd = varnishdForTests("origin cache tests");

describe.skipIf(!varnishd)("back cache (CloudFront role)", () => {
  let backend: ScriptedBackend;
  let back: RunningVarnish;
  let proxyPort: number;

  beforeAll(async () => {
    backend = await startScriptedBackend();
    proxyPort = await freePort();
    back = await startVarnish({
      role: "back",
      backend: { host: "127.0.0.1", port: backend.port },
      port: await freePort(),
      proxyProtocolPort: proxyPort,
      ...(varnishd ? { binary: varnishd } : {}),
    });
  }, 30_000);
  afterAll(async () => {
    await back?.stop();
    await backend?.close();
  });

  async function get(path: string, init: RequestInit = {}) {
    const response = await fetch(`${back.url}${path}`, init);
    const text = await response.text();
    return { status: response.status, cache: response.headers.get("x-cache"), text };
  }
  async function xCaches(path: string, times: number) {
    const seen: Array<string | null> = [];
    for (let i = 0; i < times; i++) seen.push((await get(path)).cache);
    return seen;
  }
  const HIT = "Hit from cloudfront";
  const MISS = "Miss from cloudfront";
  const cacheable = (body: unknown) => () => answer(body, { "Cache-Control": "public, max-age=60" });

  it("takes the TTL from s-maxage over max-age, and caches nothing without one", async () => {
    backend.script("/ttl/s-maxage", () =>
      answer({ n: 1 }, { "Cache-Control": "public, max-age=0, s-maxage=60" }),
    );
    backend.script("/ttl/s-maxage-zero", () =>
      answer({ n: 2 }, { "Cache-Control": "public, max-age=60, s-maxage=0" }),
    );
    backend.script("/ttl/none", () => answer({ n: 3 }, {}));
    // CloudFront reads Cache-Control only.
    backend.script("/ttl/cdn-only", () => answer({ n: 4 }, { "CDN-Cache-Control": "max-age=60" }));
    backend.script("/ttl/no-store", () => answer({ n: 5 }, { "Cache-Control": "no-store, max-age=60" }));
    expect(await xCaches("/ttl/s-maxage", 2)).toEqual([MISS, HIT]);
    for (const path of ["/ttl/s-maxage-zero", "/ttl/none", "/ttl/cdn-only", "/ttl/no-store"]) {
      expect(await xCaches(path, 2), path).toEqual([MISS, MISS]);
      expect(backend.seen(path), path).toHaveLength(2);
    }
    expect(backend.seen("/ttl/s-maxage")).toHaveLength(1);
  });

  it("keys on the full URL with its query string", async () => {
    backend.script("/listing", (request) => cacheable({ query: new URL(request.url).search })());
    expect((await get("/listing?region=eu")).cache).toBe(MISS);
    expect((await get("/listing?region=us")).cache).toBe(MISS);
    const again = await get("/listing?region=eu");
    expect(again.cache).toBe(HIT);
    expect(JSON.parse(again.text)).toEqual({ query: "?region=eu" });
    expect((await get("/listing")).cache).toBe(MISS);
    expect(backend.seen("/listing").map((request) => request.url)).toEqual([
      "/listing?region=eu",
      "/listing?region=us",
      "/listing",
    ]);
  });

  it("passes per-user reads and refuses methods the distribution does not allow", async () => {
    backend.script("/private", cacheable({ user: true }));
    for (let i = 0; i < 2; i++) {
      const response = await get("/private", { headers: { Authorization: "Bearer u1" } });
      expect(response.cache).toBe(MISS);
    }
    expect(backend.seen("/private").map((request) => request.headers.get("authorization"))).toEqual([
      "Bearer u1",
      "Bearer u1",
    ]);
    const post = await get("/private", { method: "POST", body: "{}" });
    expect(post.status).toBe(403);
    expect(post.cache).toBe("Error from cloudfront");
    expect(backend.seen("/private")).toHaveLength(2);
  });

  describe("after the TTL", () => {
    // Varnish runs on real time: this wait is the real tier's expiry (1 s TTLs), done once for
    // every copy below.
    const TTL_WAIT_MS = 1_300;

    beforeAll(async () => {
      backend.script("/stale/revalidated", (request) =>
        request.headers.get("if-none-match") === '"r1"'
          ? new Response(null, { status: 304, headers: { "Cache-Control": "max-age=60", ETag: '"r1"' } })
          : answer({ v: 1 }, { "Cache-Control": "max-age=1", ETag: '"r1"' }),
      );
      backend.script("/stale/while-revalidate", (_request, call) =>
        answer(
          { v: call },
          { "Cache-Control": `s-maxage=${call === 1 ? 1 : 60}, stale-while-revalidate=30` },
        ),
      );
      backend.script("/stale/if-error", (_request, call) =>
        call === 1
          ? answer({ v: 1 }, { "Cache-Control": "s-maxage=1, stale-if-error=30" })
          : answer({ error: "down" }, { "Cache-Control": "no-store" }, 502),
      );
      backend.script("/stale/no-grace", (_request, call) =>
        call === 1
          ? answer({ v: 1 }, { "Cache-Control": "s-maxage=1" })
          : answer({ error: "down" }, { "Cache-Control": "no-store" }, 502),
      );
      for (const path of [
        "/stale/revalidated",
        "/stale/while-revalidate",
        "/stale/if-error",
        "/stale/no-grace",
      ])
        expect(await xCaches(path, 2), path).toEqual([MISS, HIT]);
      await new Promise((resolve) => setTimeout(resolve, TTL_WAIT_MS));
    });

    it("says RefreshHit when the origin revalidated the copy with 304", async () => {
      const refreshed = await get("/stale/revalidated");
      expect(refreshed.cache).toBe("RefreshHit from cloudfront");
      expect(JSON.parse(refreshed.text)).toEqual({ v: 1 });
      expect(backend.seen("/stale/revalidated")[1]?.headers.get("if-none-match")).toBe('"r1"');
      expect((await get("/stale/revalidated")).cache).toBe(HIT);
    });

    it("serves the stale copy within stale-while-revalidate and refreshes it behind", async () => {
      const stale = await get("/stale/while-revalidate");
      expect(stale.cache).toBe(HIT);
      expect(JSON.parse(stale.text)).toEqual({ v: 1 });
      await backend.reached("/stale/while-revalidate", 2);
    });

    it("serves the stale copy within stale-if-error when the origin fails, and the error without it", async () => {
      const served = await get("/stale/if-error");
      expect(served.status).toBe(200);
      expect(JSON.parse(served.text)).toEqual({ v: 1 });
      expect(backend.seen("/stale/if-error").length).toBeGreaterThanOrEqual(2);
      const failed = await get("/stale/no-grace");
      expect(failed.status).toBe(502);
      expect(failed.cache).toBe("Error from cloudfront");
    });
  });

  describe("invalidations", () => {
    function invalidate(paths: string) {
      return fetch(`${back.url}/`, { method: "PURGE", headers: { "X-Invalidation-Paths": paths } });
    }

    it("bans a path with any query string, and a prefix for a path ending in *", async () => {
      for (const path of ["/inv/a", "/inv/ab", "/inv/dir/1", "/inv/dir/2", "/inv/other"])
        backend.script(path, cacheable({ path }));
      const urls = ["/inv/a", "/inv/a?x=1", "/inv/ab", "/inv/dir/1", "/inv/dir/2?y=2", "/inv/other"];
      for (const url of urls) expect((await get(url)).cache, url).toBe(MISS);
      const response = await invalidate("/inv/a /inv/dir/*");
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ banned: true });
      const after = Object.fromEntries(
        await Promise.all(urls.map(async (url) => [url, (await get(url)).cache])),
      );
      expect(after).toEqual({
        "/inv/a": MISS,
        "/inv/a?x=1": MISS,
        "/inv/ab": HIT,
        "/inv/dir/1": MISS,
        "/inv/dir/2?y=2": MISS,
        "/inv/other": HIT,
      });
    });

    it("refuses paths without /, a * not at the end, no paths, and clients outside loopback", async () => {
      for (const paths of ["", "inv/a", "/inv/*/x"]) {
        const response = await invalidate(paths);
        expect(response.status, paths).toBe(400);
        expect(((await response.json()) as { error: string }).error).toMatch(/X-Invalidation-Paths/);
      }
      expect(
        await requestAsClient(proxyPort, "198.51.100.9", {
          method: "PURGE",
          path: "/",
          headers: { "X-Invalidation-Paths": "/inv/other" },
        }),
      ).toBe(403);
      expect((await get("/inv/other")).cache).toBe(HIT);
    });

    it("applies a CloudFront invalidation once the fake completes it", async () => {
      backend.script("/v1/gpus/gpu-00001", cacheable({ gpuId: "gpu-00001" }));
      backend.script("/v1/gpus", cacheable({ items: [] }));
      const timers = new ManualTimers(new ManualClock());
      const cloudfront = await startCloudFrontFake({
        now: timers.clock.now,
        varnishBans: { url: back.url, completionDelayMs: 3_000, timers },
      });
      const sdk = new CloudFrontClient({
        endpoint: cloudfront.url,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
        maxAttempts: 1,
      });
      try {
        for (const url of ["/v1/gpus/gpu-00001", "/v1/gpus?region=eu"]) await get(url);
        const created = await sdk.send(
          new CreateInvalidationCommand({
            DistributionId: "ELOCAL",
            InvalidationBatch: { CallerReference: "gpu-1", Paths: { Quantity: 1, Items: ["/v1/gpus*"] } },
          }),
        );
        const id = created.Invalidation?.Id ?? "";
        // Accepted but not complete: CloudFront still serves the copies.
        expect((await get("/v1/gpus/gpu-00001")).cache).toBe(HIT);
        timers.advance(3_000);
        await cloudfront.bansSettled();
        const status = await sdk.send(new GetInvalidationCommand({ DistributionId: "ELOCAL", Id: id }));
        expect(status.Invalidation?.Status).toBe("Completed");
        expect((await get("/v1/gpus/gpu-00001")).cache).toBe(MISS);
        expect((await get("/v1/gpus?region=eu")).cache).toBe(MISS);
      } finally {
        sdk.destroy();
        await cloudfront.close();
      }
    });
  });
});
