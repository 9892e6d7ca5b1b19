/**
 * The front HTTP cache (dev/varnish/front.vcl, Workers Cache's role) in a real varnishd, in front
 * of a backend each test scripts: which header decides freshness, CF-Cache-Status through a
 * copy's life, what bypasses the cache, and the PURGE protocol the Worker's purge endpoint uses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../dev/support/ports";
import { type RunningVarnish, startVarnish } from "../../../dev/varnish/varnishd";
import {
  answer,
  requestAsClient,
  type ScriptedBackend,
  startScriptedBackend,
  varnishdForTests,
} from "./fixtures";

const varnishd = varnishdForTests("front cache tests");

describe.skipIf(!varnishd)("front cache (Workers Cache role)", () => {
  let backend: ScriptedBackend;
  let front: RunningVarnish;
  let proxyPort: number;

  beforeAll(async () => {
    backend = await startScriptedBackend();
    proxyPort = await freePort();
    front = await startVarnish({
      role: "front",
      backend: { host: "127.0.0.1", port: backend.port },
      port: await freePort(),
      proxyProtocolPort: proxyPort,
      ...(varnishd ? { binary: varnishd } : {}),
    });
  }, 30_000);
  afterAll(async () => {
    await front?.stop();
    await backend?.close();
  });

  /** One request through the front; the body is read so the connection is free again. */
  async function get(path: string, init: RequestInit = {}) {
    const response = await fetch(`${front.url}${path}`, init);
    const text = await response.text();
    return {
      status: response.status,
      cache: response.headers.get("cf-cache-status"),
      headers: response.headers,
      text,
    };
  }
  async function cacheStatuses(path: string, times: number, init: RequestInit = {}) {
    const seen: Array<string | null> = [];
    for (let i = 0; i < times; i++) seen.push((await get(path, init)).cache);
    return seen;
  }
  function purge(headers: Record<string, string>) {
    return fetch(`${front.url}/`, { method: "PURGE", headers }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { purged?: number; error?: string },
    }));
  }

  describe("which header decides", () => {
    it("CDN-Cache-Control wins over Cache-Control", async () => {
      backend.script("/precedence/cdn-allows", () =>
        answer({ n: 1 }, { "Cache-Control": "no-store", "CDN-Cache-Control": "max-age=60" }),
      );
      backend.script("/precedence/cdn-forbids", () =>
        answer({ n: 2 }, { "Cache-Control": "public, max-age=60", "CDN-Cache-Control": "no-store" }),
      );
      expect(await cacheStatuses("/precedence/cdn-allows", 2)).toEqual(["MISS", "HIT"]);
      expect(backend.seen("/precedence/cdn-allows")).toHaveLength(1);
      expect(await cacheStatuses("/precedence/cdn-forbids", 2)).toEqual(["BYPASS", "BYPASS"]);
      expect(backend.seen("/precedence/cdn-forbids")).toHaveLength(2);
    });

    it("Cloudflare-CDN-Cache-Control wins over both, and only CDN-Cache-Control reaches clients", async () => {
      backend.script("/precedence/cf-allows", () =>
        answer(
          { n: 3 },
          {
            "Cache-Control": "no-store",
            "CDN-Cache-Control": "no-store",
            "Cloudflare-CDN-Cache-Control": "max-age=60",
          },
        ),
      );
      backend.script("/precedence/cf-forbids", () =>
        answer(
          { n: 4 },
          {
            "Cache-Control": "max-age=60",
            "CDN-Cache-Control": "max-age=60",
            "Cloudflare-CDN-Cache-Control": "private",
          },
        ),
      );
      const first = await get("/precedence/cf-allows");
      expect(first.cache).toBe("MISS");
      expect(first.headers.get("cdn-cache-control")).toBe("no-store");
      expect(first.headers.has("cloudflare-cdn-cache-control")).toBe(false);
      expect((await get("/precedence/cf-allows")).cache).toBe("HIT");
      expect(await cacheStatuses("/precedence/cf-forbids", 2)).toEqual(["BYPASS", "BYPASS"]);
    });

    it("within Cache-Control, s-maxage wins over max-age", async () => {
      backend.script("/precedence/s-maxage-long", () =>
        answer({ n: 5 }, { "Cache-Control": "public, max-age=0, s-maxage=60" }),
      );
      backend.script("/precedence/s-maxage-zero", () =>
        answer({ n: 6 }, { "Cache-Control": "public, max-age=60, s-maxage=0" }),
      );
      expect(await cacheStatuses("/precedence/s-maxage-long", 2)).toEqual(["MISS", "HIT"]);
      expect(await cacheStatuses("/precedence/s-maxage-zero", 2)).toEqual(["MISS", "MISS"]);
      expect(backend.seen("/precedence/s-maxage-zero")).toHaveLength(2);
    });
  });

  it("answers MISS then HIT, and keeps Cache-Tag inside", async () => {
    backend.script("/tagged", () =>
      answer({ gpu: "g1" }, { "CDN-Cache-Control": "max-age=60", "Cache-Tag": "gpu:g1,gpus:*:*" }),
    );
    const first = await get("/tagged");
    const second = await get("/tagged");
    expect([first.cache, second.cache]).toEqual(["MISS", "HIT"]);
    expect(second.text).toBe(first.text);
    for (const response of [first, second]) {
      expect(response.headers.has("cache-tag")).toBe(false);
      expect(response.headers.has("xkey")).toBe(false);
      expect([...response.headers.keys()].filter((name) => name.startsWith("x-front"))).toEqual([]);
    }
    expect(backend.seen("/tagged")).toHaveLength(1);
  });

  it("bypasses for Authorization, Cookie, POST, Set-Cookie, no-store and private", async () => {
    const cacheable = { "CDN-Cache-Control": "max-age=60", "Cache-Control": "public, max-age=60" };
    const cases: Array<{ path: string; init?: RequestInit; headers?: Record<string, string> }> = [
      { path: "/bypass/authorization", init: { headers: { Authorization: "Bearer abc" } } },
      { path: "/bypass/cookie", init: { headers: { Cookie: "session=1" } } },
      { path: "/bypass/post", init: { method: "POST", body: "{}" } },
      { path: "/bypass/set-cookie", headers: { "Set-Cookie": "session=2; Path=/" } },
      { path: "/bypass/no-store", headers: { "CDN-Cache-Control": "no-store" } },
      { path: "/bypass/private", headers: { "CDN-Cache-Control": "private, max-age=60" } },
    ];
    for (const { path, init, headers } of cases) {
      backend.script(path, () => answer({ path }, { ...cacheable, ...headers }));
      expect(await cacheStatuses(path, 2, init), path).toEqual(["BYPASS", "BYPASS"]);
      expect(backend.seen(path), path).toHaveLength(2);
    }
    // The bypassed request reached the Worker as the client sent it.
    expect(backend.seen("/bypass/authorization")[0]?.headers.get("authorization")).toBe("Bearer abc");
    expect(backend.seen("/bypass/post")[0]?.method).toBe("POST");
  });

  describe("after the TTL", () => {
    // Varnish runs on real time: this wait is the real tier's expiry (1 s TTLs), done once for
    // every copy below.
    const TTL_WAIT_MS = 1_300;

    beforeAll(async () => {
      backend.script("/ttl/expired", (_request, call) =>
        call === 1
          ? answer({ v: 1 }, { "CDN-Cache-Control": "max-age=1", ETag: '"e1"' })
          : answer({ v: 2 }, { "CDN-Cache-Control": "max-age=60", ETag: '"e2"' }),
      );
      backend.script("/ttl/revalidated", (request) =>
        request.headers.get("if-none-match") === '"r1"'
          ? new Response(null, { status: 304, headers: { "CDN-Cache-Control": "max-age=60", ETag: '"r1"' } })
          : answer({ v: 1 }, { "CDN-Cache-Control": "max-age=1", ETag: '"r1"' }),
      );
      backend.script("/ttl/stale-while-revalidate", (_request, call) =>
        answer(
          { v: call },
          { "CDN-Cache-Control": `max-age=${call === 1 ? 1 : 60}, stale-while-revalidate=30` },
        ),
      );
      backend.script("/ttl/stale-if-error", (_request, call) =>
        call === 1
          ? answer({ v: 1 }, { "CDN-Cache-Control": "max-age=1, stale-if-error=30", ETag: '"s1"' })
          : answer({ error: "down" }, { "Cache-Control": "no-store" }, 500),
      );
      backend.script("/ttl/no-grace", (_request, call) =>
        call === 1
          ? answer({ v: 1 }, { "CDN-Cache-Control": "max-age=1", ETag: '"n1"' })
          : answer({ error: "down" }, { "Cache-Control": "no-store" }, 500),
      );
      for (const path of [
        "/ttl/expired",
        "/ttl/revalidated",
        "/ttl/stale-while-revalidate",
        "/ttl/stale-if-error",
        "/ttl/no-grace",
      ])
        expect(await cacheStatuses(path, 2), path).toEqual(["MISS", "HIT"]);
      await new Promise((resolve) => setTimeout(resolve, TTL_WAIT_MS));
    });

    it("EXPIRED: the expired copy was asked for with If-None-Match and the Worker sent a new body", async () => {
      const refreshed = await get("/ttl/expired");
      expect(refreshed.cache).toBe("EXPIRED");
      expect(JSON.parse(refreshed.text)).toEqual({ v: 2 });
      expect(backend.seen("/ttl/expired")[1]?.headers.get("if-none-match")).toBe('"e1"');
      expect((await get("/ttl/expired")).cache).toBe("HIT");
    });

    it("REVALIDATED: the Worker answered the copy's If-None-Match with 304", async () => {
      const revalidated = await get("/ttl/revalidated");
      expect(revalidated.cache).toBe("REVALIDATED");
      expect(revalidated.status).toBe(200);
      expect(JSON.parse(revalidated.text)).toEqual({ v: 1 });
      // The 304's 60 s now govern the copy.
      expect((await get("/ttl/revalidated")).cache).toBe("HIT");
      expect(backend.seen("/ttl/revalidated")).toHaveLength(2);
    });

    it("STALE within stale-while-revalidate, refreshed in the background", async () => {
      const stale = await get("/ttl/stale-while-revalidate");
      expect(stale.cache).toBe("STALE");
      expect(JSON.parse(stale.text)).toEqual({ v: 1 });
      await backend.reached("/ttl/stale-while-revalidate", 2);
      // Varnish stores the refresh on its own thread once the body is in, and nothing outside says
      // when: ask again until it serves it (bounded).
      let next = await get("/ttl/stale-while-revalidate");
      for (const deadline = Date.now() + 2_000; JSON.parse(next.text).v === 1 && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        next = await get("/ttl/stale-while-revalidate");
      }
      expect(next.cache).toBe("HIT");
      expect(JSON.parse(next.text)).toEqual({ v: 2 });
    });

    it("STALE within stale-if-error when the Worker fails", async () => {
      const served = await get("/ttl/stale-if-error");
      expect(served.status).toBe(200);
      expect(served.cache).toBe("STALE");
      expect(JSON.parse(served.text)).toEqual({ v: 1 });
      // It asked the Worker first.
      expect(backend.seen("/ttl/stale-if-error").length).toBeGreaterThanOrEqual(2);
    });

    it("no stale copy past the TTL without stale-while-revalidate or stale-if-error", async () => {
      const served = await get("/ttl/no-grace");
      expect(served.status).toBe(500);
      expect(JSON.parse(served.text)).toEqual({ error: "down" });
    });
  });

  describe("PURGE", () => {
    const tagged = (tags: string, etag?: string) => () =>
      answer(
        { tags },
        { "CDN-Cache-Control": "max-age=60", "Cache-Tag": tags, ...(etag ? { ETag: etag } : {}) },
      );

    it("answers 400 without one of its headers, for a bad mode and for a prefix without /", async () => {
      const refused: Array<Record<string, string>> = [
        {},
        { "X-Purge-Tags": "  " },
        { "X-Purge-Everything": "yes" },
        { "X-Purge-Tags": "a", "X-Purge-Mode": "soft" },
        { "X-Purge-Prefixes": "/ok v1/gpus" },
      ];
      for (const headers of refused) {
        const result = await purge(headers);
        expect(result.status, JSON.stringify(headers)).toBe(400);
        expect(result.body.error).toMatch(/X-Purge/);
      }
    });

    it("answers 403 to a client outside loopback", async () => {
      expect(
        await requestAsClient(proxyPort, "203.0.113.7", {
          method: "PURGE",
          path: "/",
          headers: { "X-Purge-Everything": "1" },
        }),
      ).toBe(403);
      // The same request from loopback is accepted: it is the address that was refused.
      expect(
        await requestAsClient(proxyPort, "127.0.0.1", {
          method: "PURGE",
          path: "/",
          headers: { "X-Purge-Tags": "nothing-has-this" },
        }),
      ).toBe(200);
    });

    it("purges by tags and counts the objects", async () => {
      backend.script("/purge/t1", tagged("tag-a, tag-b"));
      backend.script("/purge/t2", tagged("tag-b"));
      backend.script("/purge/t3", tagged("tag-c"));
      for (const path of ["/purge/t1", "/purge/t2", "/purge/t3"]) await get(path);
      expect(await purge({ "X-Purge-Tags": "tag-b tag-unknown" })).toEqual({
        status: 200,
        body: { purged: 2 },
      });
      expect((await get("/purge/t1")).cache).toBe("MISS");
      expect((await get("/purge/t2")).cache).toBe("MISS");
      expect((await get("/purge/t3")).cache).toBe("HIT");
    });

    it("purges by path prefix, any query string, and says it cannot count (-1)", async () => {
      backend.script("/purge/x/1", tagged("x"));
      backend.script("/purge/x/2", tagged("x"));
      backend.script("/purge/xy", tagged("x"));
      backend.script("/purge/y", tagged("y"));
      for (const path of ["/purge/x/1", "/purge/x/2?q=1", "/purge/xy", "/purge/y"]) await get(path);
      expect(await purge({ "X-Purge-Prefixes": "/purge/x/ /purge/nothing" })).toEqual({
        status: 200,
        body: { purged: -1 },
      });
      expect((await get("/purge/x/1")).cache).toBe("MISS");
      expect((await get("/purge/x/2?q=1")).cache).toBe("MISS");
      expect((await get("/purge/xy")).cache).toBe("HIT");
      expect((await get("/purge/y")).cache).toBe("HIT");
    });

    it("invalidate mode marks copies stale: the next request revalidates them", async () => {
      backend.script("/purge/soft", (request) =>
        request.headers.get("if-none-match") === '"soft1"'
          ? new Response(null, {
              status: 304,
              headers: { "CDN-Cache-Control": "max-age=60", ETag: '"soft1"' },
            })
          : tagged("soft", '"soft1"')(),
      );
      expect(await cacheStatuses("/purge/soft", 2)).toEqual(["MISS", "HIT"]);
      expect(await purge({ "X-Purge-Tags": "soft", "X-Purge-Mode": "invalidate" })).toEqual({
        status: 200,
        body: { purged: 1 },
      });
      expect((await get("/purge/soft")).cache).toBe("REVALIDATED");
      expect(backend.seen("/purge/soft")[1]?.headers.get("if-none-match")).toBe('"soft1"');
      expect((await get("/purge/soft")).cache).toBe("HIT");
    });

    it("purges everything, soft or not, and counts", async () => {
      backend.script("/purge/all-1", tagged("all-1", '"a1"'));
      backend.script("/purge/all-2", tagged("all-2"));
      for (const path of ["/purge/all-1", "/purge/all-2"]) await get(path);
      const soft = await purge({ "X-Purge-Everything": "1", "X-Purge-Mode": "invalidate" });
      expect(soft.status).toBe(200);
      expect(soft.body.purged).toBeGreaterThanOrEqual(2);
      // all-1 has a validator and is kept for revalidation; the Worker sends a new body.
      expect((await get("/purge/all-1")).cache).toBe("EXPIRED");
      const hard = await purge({ "X-Purge-Everything": "1" });
      expect(hard.body.purged).toBeGreaterThanOrEqual(2);
      expect((await get("/purge/all-1")).cache).toBe("MISS");
      expect((await get("/purge/all-2")).cache).toBe("MISS");
    });
  });
});
