/**
 * Every route of the edge API through the real Worker (`exports.default.fetch`): the
 * origin's body, and the headers docs/architecture.md "Edge HTTP API" promises on each answer.
 * Keys used here are used by no other test file.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import { tags } from "../../core/tags";
import { edgeGet, ORIGIN_URL, originCount, originText, parseServerTiming } from "./support";

/** docs/architecture.md "Data classes", written out by hand so a wrong policy table cannot pass. */
const CACHE_CONTROL = {
  availability: "public, max-age=0, s-maxage=1, stale-if-error=60",
  pricing: "public, max-age=10, s-maxage=1, stale-if-error=300",
  gpu: "public, max-age=30, s-maxage=1, stale-if-error=600",
  provider: "public, max-age=10, s-maxage=1, stale-if-error=300",
  "market-stats": "public, max-age=5, s-maxage=1, stale-if-error=300",
  "order-book": "public, max-age=0, s-maxage=1, stale-if-error=30",
  reference: "public, max-age=300, s-maxage=3600, stale-if-error=86400",
} as const;
const CDN_CACHE_CONTROL = {
  availability: "public, max-age=1, stale-if-error=60",
  pricing: "public, max-age=1, stale-if-error=300",
  gpu: "public, max-age=1, stale-if-error=600",
  provider: "public, max-age=1, stale-if-error=300",
  "market-stats": "public, max-age=1, stale-if-error=300",
  "order-book": "public, max-age=1, stale-if-error=30",
  reference: "public, max-age=3600, stale-if-error=86400",
} as const;
type DataClass = keyof typeof CACHE_CONTROL;

interface RouteCase {
  readonly path: string;
  readonly dataClass: DataClass;
  readonly tag: string;
}

const CASES: readonly RouteCase[] = [
  // First: every later case naming a region or type reads these lists, and so puts them in L1.
  { path: "/v1/regions", dataClass: "reference", tag: "ref:regions" },
  { path: "/v1/gpu-types", dataClass: "reference", tag: "ref:gpu-types" },
  { path: "/v1/gpus", dataClass: "availability", tag: tags.listing(undefined, undefined) },
  {
    path: "/v1/gpus?region=us-east&type=RTX-4090&status=available&sort=price&limit=5",
    dataClass: "availability",
    tag: tags.listing("us-east", "RTX-4090"),
  },
  {
    path: "/v1/gpus?region=eu-west&sort=performance&limit=3",
    dataClass: "availability",
    tag: "gpus:eu-west:*",
  },
  { path: "/v1/gpus?type=L40S&status=busy", dataClass: "availability", tag: "gpus:*:L40S" },
  { path: "/v1/gpus/gpu-00003", dataClass: "gpu", tag: "gpu:gpu-00003" },
  { path: "/v1/pricing?type=RTX-4090&region=us-east", dataClass: "pricing", tag: "price:RTX-4090:us-east" },
  { path: "/v1/pricing?type=H100-SXM", dataClass: "pricing", tag: "prices:H100-SXM:*" },
  { path: "/v1/pricing?region=ap-southeast", dataClass: "pricing", tag: "prices:*:ap-southeast" },
  { path: "/v1/pricing", dataClass: "pricing", tag: "prices:*:*" },
  { path: "/v1/providers/prov-001", dataClass: "provider", tag: "provider:prov-001" },
  {
    path: "/v1/market/stats?region=us-east&type=RTX-4090",
    dataClass: "market-stats",
    tag: "stats:us-east:RTX-4090",
  },
  { path: "/v1/market/stats?region=us-west", dataClass: "market-stats", tag: "stats-list:us-west:*" },
  { path: "/v1/market/stats?type=A10G", dataClass: "market-stats", tag: "stats-list:*:A10G" },
  {
    path: "/v1/orderbook/RTX-4090?region=us-east",
    dataClass: "order-book",
    tag: "orderbook:RTX-4090:us-east",
  },
  { path: "/v1/orderbook/H100-SXM", dataClass: "order-book", tag: "orderbooks:H100-SXM" },
];

describe("edge API routes (real Worker)", () => {
  it("the hand-written header table matches the configured defaults", () => {
    // If the defaults move, this file must move with them on purpose.
    for (const [name, policy] of Object.entries(DEFAULT_DATA_CLASS_POLICIES)) {
      const sie = policy.staleIfErrorMs / 1000;
      expect(CACHE_CONTROL[name as DataClass]).toBe(
        `public, max-age=${policy.browserMaxAgeSeconds}, s-maxage=${policy.cdnMaxAgeSeconds}, stale-if-error=${sie}`,
      );
    }
  });

  it("the tags this file expects are the ones core/tags.ts builds", () => {
    expect(tags.listing("eu-west", undefined)).toBe("gpus:eu-west:*");
    expect(tags.listing(undefined, "L40S")).toBe("gpus:*:L40S");
    expect(tags.gpu("gpu-00003")).toBe("gpu:gpu-00003");
    expect(tags.price("RTX-4090", "us-east")).toBe("price:RTX-4090:us-east");
    expect(tags.priceList("H100-SXM", undefined)).toBe("prices:H100-SXM:*");
    expect(tags.priceList(undefined, "ap-southeast")).toBe("prices:*:ap-southeast");
    expect(tags.priceList(undefined, undefined)).toBe("prices:*:*");
    expect(tags.provider("prov-001")).toBe("provider:prov-001");
    expect(tags.marketStats("us-east", "RTX-4090")).toBe("stats:us-east:RTX-4090");
    expect(tags.statsList("us-west", undefined)).toBe("stats-list:us-west:*");
    expect(tags.statsList(undefined, "A10G")).toBe("stats-list:*:A10G");
    expect(tags.orderBook("RTX-4090", "us-east")).toBe("orderbook:RTX-4090:us-east");
    expect(tags.orderBookList("H100-SXM")).toBe("orderbooks:H100-SXM");
    expect(tags.reference("regions")).toBe("ref:regions");
    expect(tags.reference("gpu-types")).toBe("ref:gpu-types");
  });

  it.each(CASES)(
    "$path: 200, the origin's body, X-Cache, Server-Timing, ETag, caching headers, Cache-Tag",
    async ({ path, dataClass, tag }) => {
      const expected = await originText(path);

      const first = await edgeGet(path);
      expect(first.status).toBe(200);
      expect(await first.text()).toBe(expected);
      expect(first.headers.get("Content-Type")).toMatch(/^application\/json/);
      // The reference lists' L2 keys are shared: another file's region check may have filled them.
      expect(first.headers.get("X-Cache")).toMatch(dataClass === "reference" ? /^(ORIGIN|L2)$/ : /^ORIGIN$/);
      expect(first.headers.get("Cache-Control")).toBe(CACHE_CONTROL[dataClass]);
      expect(first.headers.get("CDN-Cache-Control")).toBe(CDN_CACHE_CONTROL[dataClass]);
      expect(first.headers.get("Cache-Tag")?.split(",")).toEqual([tag]);
      const etag = first.headers.get("ETag");
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      const timing = parseServerTiming(first.headers.get("Server-Timing"));
      const below = first.headers.get("X-Cache") === "ORIGIN" ? ["l1", "l2", "origin"] : ["l1", "l2"];
      expect(timing.map((item) => item.name)).toEqual(expect.arrayContaining(below));
      for (const item of timing) expect(item.dur).toBeGreaterThanOrEqual(0);

      const second = await edgeGet(path);
      expect(second.status).toBe(200);
      expect(await second.text()).toBe(expected);
      expect(second.headers.get("X-Cache")).toBe("L1");
      expect(second.headers.get("ETag")).toBe(etag);
      expect(second.headers.get("Cache-Control")).toBe(CACHE_CONTROL[dataClass]);
      expect(second.headers.get("CDN-Cache-Control")).toBe(CDN_CACHE_CONTROL[dataClass]);
      expect(second.headers.get("Cache-Tag")).toBe(tag);
      const hitTiming = parseServerTiming(second.headers.get("Server-Timing")).map((item) => item.name);
      expect(hitTiming).toContain("l1");
      // An L1 hit asks nothing below it.
      expect(hitTiming).not.toContain("l2");
      expect(hitTiming).not.toContain("origin");
    },
  );

  it("an origin 404 is answered no-store, without ETag or Cache-Tag, and the next one from this isolate's memory", async () => {
    for (const path of ["/v1/gpus/gpu-99999", "/v1/providers/prov-999"]) {
      const before = await originCount(path);
      const body = await (await fetch(`${ORIGIN_URL}${path}`)).text();
      const response = await edgeGet(path);
      expect(response.status, path).toBe(404);
      expect(await response.text()).toBe(body);
      expect(response.headers.get("X-Cache")).toBe("ORIGIN");
      // Kept out of every shared tier, as the origin's no-store asks.
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(response.headers.get("CDN-Cache-Control")).toBeNull();
      expect(response.headers.get("ETag")).toBeNull();
      expect(response.headers.get("Cache-Tag")).toBeNull();
      // Asked again within NEGATIVE_CACHE_MS: the same 404, and the origin is not asked.
      const again = await edgeGet(path);
      expect(again.status).toBe(404);
      expect(await again.text()).toBe(body);
      expect(again.headers.get("X-Cache")).toBe("L1");
      expect(again.headers.get("Cache-Control")).toBe("no-store");
      expect(again.headers.get("ETag")).toBeNull();
      expect(again.headers.get("Cache-Tag")).toBeNull();
      expect(await originCount(path)).toBe(before + 2);
    }
  });

  it("an unknown path is a JSON 404 that is not stored anywhere", async () => {
    const response = await edgeGet("/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "Not found" });
    expect(response.headers.get("Cache-Control")).toBe("no-store");
  });
});
