/**
 * core/purge-paths.ts: tags → CloudFront paths, derived from the edge routes, and
 * the path algebra (cover, normalise, broaden, fit to the in-progress budget).
 */
import { describe, expect, it } from "vitest";
import { identifierSchema } from "../../core/domain";
import { createKeyspace } from "../../core/keys";
import {
  broaderWildcard,
  cloudFrontPathForTag,
  cloudFrontPathsForTags,
  coversPath,
  fitPathsToBudget,
  fitPrefixes,
  isWildcardPath,
  normaliseInvalidationPaths,
  normalisePurgePrefixes,
  parentPrefix,
  prefixCovers,
  purgePrefixForTag,
  purgePrefixOfPath,
} from "../../core/purge-paths";
import {
  listingTagsFor,
  orderBookTagsFor,
  priceTagsFor,
  statsTagsFor,
  tags,
  tagsForGpuChange,
} from "../../core/tags";
import { routes } from "../../workers/routes";

const keys = createKeyspace("purge-paths-test");

/** How CloudFront matches an invalidation path against a cached request (path + query). */
function invalidates(path: string, request: string): boolean {
  return path.endsWith("*") ? request.startsWith(path.slice(0, -1)) : request === path;
}

describe("cloudFrontPathForTag", () => {
  it.each([
    [tags.gpu("gpu-00042"), "/v1/gpus/gpu-00042"],
    [tags.listing("us-east", "RTX-4090"), "/v1/gpus*"],
    [tags.listing(undefined, undefined), "/v1/gpus*"],
    [tags.price("RTX-4090", "us-east"), "/v1/pricing*"],
    [tags.priceList(undefined, "us-east"), "/v1/pricing*"],
    [tags.provider("prov-7"), "/v1/providers/prov-7"],
    [tags.marketStats("us-east", "A100"), "/v1/market/stats*"],
    [tags.statsList(undefined, undefined), "/v1/market/stats*"],
    [tags.orderBook("H100", "eu-west"), "/v1/orderbook/H100*"],
    [tags.orderBookList("H100"), "/v1/orderbook/H100*"],
    [tags.reference("regions"), "/v1/regions"],
    [tags.reference("gpu-types"), "/v1/gpu-types"],
  ])("%s → %s", (tag, path) => {
    expect(cloudFrontPathForTag(tag)).toBe(path);
  });

  it.each([
    "unknown:thing",
    "gpu",
    "gpu:",
    "gpu:a:b",
    "gpu:abc*",
    "gpu:../admin",
    "provider:a/b",
    "orderbook:H100",
    "orderbooks:*",
    "price:*:us-east",
    "ref:secrets",
    "",
  ])("ignores %j (no edge route carries it; no wildcard or segment can be smuggled in)", (tag) => {
    expect(cloudFrontPathForTag(tag)).toBeUndefined();
  });
});

describe("identifiers", () => {
  it("accepts exactly the identifiers core/domain.ts accepts", () => {
    const samples = [
      "a",
      "A100",
      "RTX-4090",
      "gpu_1.2",
      "x".repeat(128),
      "x".repeat(129),
      "-a",
      ".a",
      "a*",
      "a/b",
      "a b",
      "é",
      "",
    ];
    for (const sample of samples)
      expect(cloudFrontPathForTag(`gpu:${sample}`) !== undefined, JSON.stringify(sample)).toBe(
        identifierSchema.safeParse(sample).success,
      );
  });

  it("treats a type that prefixes another as covering it (/v1/orderbook/A100* covers A100-80GB)", () => {
    expect(cloudFrontPathsForTags([tags.orderBookList("A100"), tags.orderBookList("A100-80GB")])).toEqual([
      "/v1/orderbook/A100*",
    ]);
  });
});

describe("cloudFrontPathsForTags", () => {
  it("dedupes, sorts and drops paths a wildcard covers", () => {
    const paths = cloudFrontPathsForTags([
      ...tagsForGpuChange({ gpuId: "gpu-1", region: "us-east", gpuType: "A100" }),
      ...orderBookTagsFor("A100", "us-east"),
      ...priceTagsFor("A100", "us-east"),
      tags.provider("p-1"),
      "nonsense",
    ]);
    // gpu:gpu-1 → /v1/gpus/gpu-1 is covered by the listing wildcard /v1/gpus*.
    expect(paths).toEqual([
      "/v1/gpus*",
      "/v1/market/stats*",
      "/v1/orderbook/A100*",
      "/v1/pricing*",
      "/v1/providers/p-1",
    ]);
  });

  it("keeps an entity path when no listing wildcard covers it", () => {
    expect(cloudFrontPathsForTags([tags.gpu("b"), tags.gpu("a"), tags.gpu("a")])).toEqual([
      "/v1/gpus/a",
      "/v1/gpus/b",
    ]);
    expect(cloudFrontPathsForTags(["x:y"])).toEqual([]);
  });

  it("for every route, the paths of the tags its response carries invalidate that response", () => {
    const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
      ["/v1/gpus", {}, {}],
      ["/v1/gpus", {}, { region: "us-east", type: "A100", sort: "price", limit: "10" }],
      ["/v1/gpus/:gpuId", { gpuId: "gpu-00001" }, {}],
      ["/v1/pricing", {}, { type: "A100", region: "us-east" }],
      ["/v1/pricing", {}, { region: "us-east" }],
      ["/v1/pricing", {}, {}],
      ["/v1/providers/:providerId", { providerId: "prov-3" }, {}],
      ["/v1/market/stats", {}, { region: "eu-west", type: "H100" }],
      ["/v1/market/stats", {}, { type: "H100" }],
      ["/v1/orderbook/:gpuType", { gpuType: "H100" }, { region: "eu-west" }],
      ["/v1/orderbook/:gpuType", { gpuType: "H100" }, {}],
      ["/v1/regions", {}, {}],
      ["/v1/gpu-types", {}, {}],
    ];
    for (const [pattern, pathParams, query] of cases) {
      const resolve = routes[pattern];
      if (!resolve) throw new Error(`no route ${pattern}`);
      const lookup = resolve(pathParams, query, keys);
      const paths = cloudFrontPathsForTags(lookup.tags);
      expect(paths.length, `${lookup.key} has paths`).toBeGreaterThan(0);
      expect(
        paths.some((path) => invalidates(path, lookup.key)),
        `${lookup.key} invalidated by ${paths.join(", ")}`,
      ).toBe(true);
    }
  });

  it("a GPU change invalidates its record, the listings and stats, but not other routes", () => {
    const changed = [
      ...tagsForGpuChange({ gpuId: "g1", region: "r1", gpuType: "t1" }),
      ...listingTagsFor("r1", "t1"),
      ...statsTagsFor("r1", "t1"),
    ];
    const paths = cloudFrontPathsForTags(changed);
    expect(paths.some((path) => invalidates(path, "/v1/gpus/g1"))).toBe(true);
    expect(paths.some((path) => invalidates(path, "/v1/gpus?region=r1&limit=50"))).toBe(true);
    expect(paths.some((path) => invalidates(path, "/v1/market/stats?region=r1&type=t1"))).toBe(true);
    expect(paths.some((path) => invalidates(path, "/v1/regions"))).toBe(false);
    expect(paths.some((path) => invalidates(path, "/v1/providers/p1"))).toBe(false);
    expect(paths.some((path) => invalidates(path, "/v1/orderbook/t1"))).toBe(false);
  });
});

describe("path algebra", () => {
  it("covers by trailing-wildcard prefix only", () => {
    expect(coversPath("/v1/gpus*", "/v1/gpus/abc")).toBe(true);
    expect(coversPath("/v1/gpus*", "/v1/gpus*")).toBe(false);
    expect(coversPath("/v1/gpus/abc", "/v1/gpus/abc")).toBe(false);
    expect(coversPath("/v1/orderbook/A*", "/v1/orderbook/B100")).toBe(false);
    expect(coversPath("/v1/*", "/v1/orderbook/A*")).toBe(true);
    expect(isWildcardPath("/v1/a*")).toBe(true);
    expect(isWildcardPath("/v1/a")).toBe(false);
  });

  it("normalises: unique, sorted, covered dropped", () => {
    expect(normaliseInvalidationPaths(["/v1/b", "/v1/a", "/v1/b", "/v1/*", "/other"])).toEqual([
      "/other",
      "/v1/*",
    ]);
  });

  it("broadens one level at a time up to /*", () => {
    expect(broaderWildcard("/v1/gpus/abc")).toBe("/v1/gpus/*");
    expect(broaderWildcard("/v1/gpus/*")).toBe("/v1/*");
    expect(broaderWildcard("/v1/orderbook/A100*")).toBe("/v1/orderbook/*");
    expect(broaderWildcard("/v1/gpus*")).toBe("/v1/*");
    expect(broaderWildcard("/v1/market/stats*")).toBe("/v1/market/*");
    expect(broaderWildcard("/v1/*")).toBe("/*");
    expect(broaderWildcard("/*")).toBeUndefined();
  });
});

describe("fitPathsToBudget", () => {
  const orderBooks = (n: number) => Array.from({ length: n }, (_, i) => `/v1/orderbook/T${i}-gpu*`);

  it("returns the paths unchanged when they fit", () => {
    const paths = ["/v1/gpus*", "/v1/providers/p1", ...orderBooks(3)];
    expect(fitPathsToBudget(paths, { wildcards: 15, exact: 3000 })).toEqual(
      normaliseInvalidationPaths(paths),
    );
  });

  it("merges sibling wildcards under their shared parent first", () => {
    const fitted = fitPathsToBudget(["/v1/gpus*", "/v1/providers/p1", ...orderBooks(20)], {
      wildcards: 15,
      exact: 3000,
    });
    expect(fitted).toEqual(["/v1/gpus*", "/v1/orderbook/*", "/v1/providers/p1"]);
  });

  it("collapses to /v1/* when even the families do not fit", () => {
    const fitted = fitPathsToBudget(
      ["/v1/gpus*", "/v1/pricing*", "/v1/market/stats*", "/v1/providers/p1", ...orderBooks(2)],
      { wildcards: 1, exact: 3000 },
    );
    expect(fitted).toEqual(["/v1/*"]);
  });

  it("raises lone wildcards until they meet", () => {
    expect(fitPathsToBudget(["/v1/orderbook/A*", "/v1/market/stats*"], { wildcards: 1, exact: 10 })).toEqual([
      "/v1/*",
    ]);
    expect(fitPathsToBudget(["/v1/a*", "/other/b*"], { wildcards: 1, exact: 10 })).toEqual(["/*"]);
  });

  it("folds too many individual paths into their parent wildcard", () => {
    const providers = Array.from({ length: 3500 }, (_, i) => `/v1/providers/p${i}`);
    const fitted = fitPathsToBudget([...providers, "/v1/regions", "/v1/gpus/g1"], {
      wildcards: 15,
      exact: 3000,
    });
    expect(fitted).toEqual(["/v1/gpus/g1", "/v1/providers/*", "/v1/regions"]);
  });

  it("never exceeds either budget, and every input stays covered", () => {
    const input = [
      ...orderBooks(40),
      ...Array.from({ length: 50 }, (_, i) => `/v1/gpus/g${i}`),
      "/v1/pricing*",
      "/v1/regions",
    ];
    for (const budget of [
      { wildcards: 15, exact: 3000 },
      { wildcards: 3, exact: 10 },
      { wildcards: 1, exact: 0 },
    ]) {
      const fitted = fitPathsToBudget(input, budget);
      expect(fitted).toBeDefined();
      const list = fitted ?? [];
      expect(list.filter(isWildcardPath).length).toBeLessThanOrEqual(budget.wildcards);
      expect(list.filter((path) => !isWildcardPath(path)).length).toBeLessThanOrEqual(budget.exact);
      for (const path of input)
        expect(
          list.some((p) => p === path || coversPath(p, path)),
          path,
        ).toBe(true);
    }
  });

  it("is undefined when no wildcard is left and one is needed (the caller waits)", () => {
    expect(fitPathsToBudget(["/v1/gpus*"], { wildcards: 0, exact: 3000 })).toBeUndefined();
    expect(fitPathsToBudget(["/v1/gpus/a", "/v1/gpus/b"], { wildcards: 0, exact: 1 })).toBeUndefined();
    expect(fitPathsToBudget(["/v1/gpus/a"], { wildcards: 0, exact: 1 })).toEqual(["/v1/gpus/a"]);
  });
});

/** How a purge by prefix matches a cached URL (path + query): whole path segments. */
function prefixPurges(prefix: string, request: string): boolean {
  const path = request.split("?")[0] ?? "";
  return path === prefix || path.startsWith(`${prefix}/`);
}

describe("Workers Cache prefixes", () => {
  it.each([
    [tags.gpu("gpu-00042"), "/v1/gpus/gpu-00042"],
    [tags.listing("us-east", undefined), "/v1/gpus"],
    [tags.price("A100", "us-east"), "/v1/pricing"],
    [tags.priceList(undefined, undefined), "/v1/pricing"],
    [tags.provider("prov-7"), "/v1/providers/prov-7"],
    [tags.statsList(undefined, "A100"), "/v1/market/stats"],
    [tags.orderBook("H100", "eu-west"), "/v1/orderbook/H100"],
    [tags.reference("gpu-types"), "/v1/gpu-types"],
  ])("%s → %s (its CloudFront path without the wildcard)", (tag, prefix) => {
    expect(purgePrefixForTag(tag)).toBe(prefix);
  });

  it("has no prefix for a tag no route carries", () => {
    expect(purgePrefixForTag("unknown:thing")).toBeUndefined();
    expect(purgePrefixForTag("gpu:a/b")).toBeUndefined();
  });

  it("for every route, the prefix of each tag its response carries purges that response", () => {
    const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
      ["/v1/gpus", {}, { region: "us-east", type: "A100", sort: "price", limit: "10" }],
      ["/v1/gpus/:gpuId", { gpuId: "gpu-00001" }, {}],
      ["/v1/pricing", {}, { type: "A100", region: "us-east" }],
      ["/v1/pricing", {}, { region: "us-east" }],
      ["/v1/providers/:providerId", { providerId: "prov-3" }, {}],
      ["/v1/market/stats", {}, { region: "eu-west", type: "H100" }],
      ["/v1/market/stats", {}, { type: "H100" }],
      ["/v1/orderbook/:gpuType", { gpuType: "H100" }, { region: "eu-west" }],
      ["/v1/orderbook/:gpuType", { gpuType: "H100" }, {}],
      ["/v1/regions", {}, {}],
      ["/v1/gpu-types", {}, {}],
    ];
    for (const [pattern, pathParams, query] of cases) {
      const lookup = routes[pattern]?.(pathParams, query, keys);
      if (!lookup) throw new Error(`no route ${pattern}`);
      for (const tag of lookup.tags) {
        const prefix = purgePrefixForTag(tag);
        expect(prefix !== undefined && prefixPurges(prefix, lookup.key), `${lookup.key} by ${prefix}`).toBe(
          true,
        );
      }
    }
    // Segments, not characters: the A100 order books are not the A100-80GB ones.
    expect(prefixPurges("/v1/orderbook/A100", "/v1/orderbook/A100-80GB?region=x")).toBe(false);
  });

  it("reads an operator's CloudFront path as a prefix that purges at least as much", () => {
    expect(purgePrefixOfPath("/v1/gpus/*")).toBe("/v1/gpus");
    expect(purgePrefixOfPath("/v1/gpus/gpu-1")).toBe("/v1/gpus/gpu-1");
    // A wildcard or a query inside a segment: that segment's parent (`A1*` matches A100 too).
    expect(purgePrefixOfPath("/v1/orderbook/A1*")).toBe("/v1/orderbook");
    expect(purgePrefixOfPath("/v1/gpus*")).toBe("/v1");
    expect(purgePrefixOfPath("/v1/gpus?region=us-east")).toBe("/v1");
    expect(purgePrefixOfPath("/v1/*/stats")).toBe("/v1");
    // Nothing narrower than the host: no prefix (the caller purges everything).
    expect(purgePrefixOfPath("/*")).toBeUndefined();
    expect(purgePrefixOfPath("/")).toBeUndefined();
    expect(purgePrefixOfPath("v1/gpus")).toBeUndefined();
  });

  it("covers, normalises and climbs by whole segments", () => {
    expect(prefixCovers("/v1/gpus", "/v1/gpus/gpu-1")).toBe(true);
    expect(prefixCovers("/v1/gpus", "/v1/gpus")).toBe(false);
    expect(prefixCovers("/v1/gpus", "/v1/gpusx")).toBe(false);
    expect(normalisePurgePrefixes(["/v1/gpus/b", "/v1/gpus", "/v1/gpus-x", "/v1/gpus", "/v1/a"])).toEqual([
      "/v1/a",
      "/v1/gpus",
      "/v1/gpus-x",
    ]);
    expect(parentPrefix("/v1/market/stats")).toBe("/v1/market");
    expect(parentPrefix("/v1")).toBeUndefined();
  });

  it("fits prefixes into a budget by folding the largest group of siblings first", () => {
    const gpus = Array.from({ length: 150 }, (_, index) => `/v1/gpus/gpu-${index}`);
    const providers = ["/v1/providers/p1", "/v1/providers/p2"];
    expect(fitPrefixes([...gpus, ...providers, "/v1/regions"], 100)).toEqual([
      "/v1/gpus",
      "/v1/providers/p1",
      "/v1/providers/p2",
      "/v1/regions",
    ]);
    expect(fitPrefixes([...gpus, ...providers, "/v1/regions"], 3)).toEqual([
      "/v1/gpus",
      "/v1/providers",
      "/v1/regions",
    ]);
    // No two siblings: the deepest climbs until they meet.
    expect(fitPrefixes(["/v1/market/stats", "/v1/regions"], 1)).toEqual(["/v1"]);
    // Only the whole host would do.
    expect(fitPrefixes(["/v1", "/v2"], 1)).toBeUndefined();
    expect(fitPrefixes(["/v1/gpus"], 0)).toBeUndefined();
  });
});
