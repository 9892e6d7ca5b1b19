/**
 * core/tags.ts: parseTag is the inverse of every builder in `tags`, and refuses what
 * no builder makes from identifiers. (The tag lists of a change are in codecs.test.ts;
 * what purges they lead to, in purge-paths.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { createKeyspace } from "../../core/keys";
import { type ParsedTag, parseTag, tagDataClass, tags } from "../../core/tags";
import { routes } from "../../workers/routes";

type Builders = typeof tags;

/** Per builder: the arguments to build with, and what parseTag must give back. */
const ROUND_TRIPS: { [Kind in keyof Builders]: Array<[Parameters<Builders[Kind]>, ParsedTag]> } = {
  gpu: [
    [["gpu-00042"], { kind: "gpu", gpuId: "gpu-00042" }],
    [["gpu_1.2"], { kind: "gpu", gpuId: "gpu_1.2" }],
  ],
  provider: [[["prov-7"], { kind: "provider", providerId: "prov-7" }]],
  price: [[["RTX-4090", "us-east"], { kind: "price", gpuType: "RTX-4090", region: "us-east" }]],
  marketStats: [[["us-east", "A100"], { kind: "marketStats", region: "us-east", gpuType: "A100" }]],
  orderBook: [[["H100", "eu-west"], { kind: "orderBook", gpuType: "H100", region: "eu-west" }]],
  listing: [
    [["us-east", "RTX-4090"], { kind: "listing", region: "us-east", gpuType: "RTX-4090" }],
    [["us-east", undefined], { kind: "listing", region: "us-east", gpuType: undefined }],
    [[undefined, "RTX-4090"], { kind: "listing", region: undefined, gpuType: "RTX-4090" }],
    [[undefined, undefined], { kind: "listing", region: undefined, gpuType: undefined }],
  ],
  priceList: [
    [["A100", "eu-west"], { kind: "priceList", gpuType: "A100", region: "eu-west" }],
    [["A100", undefined], { kind: "priceList", gpuType: "A100", region: undefined }],
    [[undefined, "eu-west"], { kind: "priceList", gpuType: undefined, region: "eu-west" }],
    [[undefined, undefined], { kind: "priceList", gpuType: undefined, region: undefined }],
  ],
  statsList: [
    [["us-east", "A100"], { kind: "statsList", region: "us-east", gpuType: "A100" }],
    [["us-east", undefined], { kind: "statsList", region: "us-east", gpuType: undefined }],
    [[undefined, "A100"], { kind: "statsList", region: undefined, gpuType: "A100" }],
    [[undefined, undefined], { kind: "statsList", region: undefined, gpuType: undefined }],
  ],
  orderBookList: [[["A100-80GB"], { kind: "orderBookList", gpuType: "A100-80GB" }]],
  reference: [
    [["regions"], { kind: "reference", name: "regions" }],
    [["gpu-types"], { kind: "reference", name: "gpu-types" }],
  ],
};

const cases = Object.entries(ROUND_TRIPS).flatMap(([kind, trips]) =>
  trips.map(([args, parsed]) => {
    const build = tags[kind as keyof Builders] as (...args: unknown[]) => string;
    return { kind, args, parsed, tag: build(...args) };
  }),
);

describe("parseTag", () => {
  it("has round trips for every builder, and every round trip names its builder", () => {
    expect(Object.keys(ROUND_TRIPS).sort()).toEqual(Object.keys(tags).sort());
    for (const { kind, parsed } of cases) expect(parsed.kind).toBe(kind);
  });

  it.each(cases)("$tag parses back to $kind $args", ({ tag, parsed }) => {
    expect(parseTag(tag)).toEqual(parsed);
  });

  it("tells every built tag apart (no two builders share a spelling)", () => {
    const built = cases.map((entry) => entry.tag);
    expect(new Set(built).size).toBe(built.length);
  });

  it.each([
    "",
    "gpu",
    "gpu:",
    "gpu:a:b",
    "gpu:*",
    "gpu:abc*",
    "gpu:../admin",
    "gpu:-a",
    `gpu:${"x".repeat(129)}`,
    "provider:a/b",
    "price:*:us-east",
    "stats:us-east",
    "orderbook:H100",
    "gpus:us-east",
    "gpus:us-east:*:*",
    "gpus:a b:*",
    "prices:**:*",
    "stats-list:*",
    "orderbooks:*",
    "ref:secrets",
    "ref:regions:x",
    "unknown:thing",
    "GPU:g1",
  ])("refuses %j (no builder makes it from identifiers)", (tag) => {
    expect(parseTag(tag)).toBeUndefined();
  });
});

describe("tagDataClass", () => {
  it.each([
    [tags.gpu("gpu-1"), "gpu"],
    [tags.listing("us-east", undefined), "availability"],
    [tags.price("A100", "us-east"), "pricing"],
    [tags.priceList(undefined, undefined), "pricing"],
    [tags.provider("prov-1"), "provider"],
    [tags.marketStats("us-east", "A100"), "market-stats"],
    [tags.statsList(undefined, "A100"), "market-stats"],
    [tags.orderBook("A100", "us-east"), "order-book"],
    [tags.orderBookList("A100"), "order-book"],
    [tags.reference("regions"), "reference"],
    [tags.reference("gpu-types"), "reference"],
  ])("%s is %s", (tag, dataClass) => {
    expect(tagDataClass(tag)).toBe(dataClass);
  });

  it.each(["unknown:thing", "gpu:a:b", "ref:secrets", ""])("%j has no class (always purged)", (tag) => {
    expect(tagDataClass(tag)).toBeUndefined();
  });

  it("gives every route's tags the class the route serves them with (workers/routes.ts)", () => {
    const keys = createKeyspace("tag-classes");
    const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
      ["/v1/gpus", {}, { region: "us-east" }],
      ["/v1/gpus/:gpuId", { gpuId: "gpu-1" }, {}],
      ["/v1/pricing", {}, { type: "A100", region: "us-east" }],
      ["/v1/pricing", {}, { region: "us-east" }],
      ["/v1/providers/:providerId", { providerId: "prov-1" }, {}],
      ["/v1/market/stats", {}, { region: "us-east", type: "A100" }],
      ["/v1/market/stats", {}, {}],
      ["/v1/orderbook/:gpuType", { gpuType: "A100" }, { region: "us-east" }],
      ["/v1/orderbook/:gpuType", { gpuType: "A100" }, {}],
      ["/v1/regions", {}, {}],
      ["/v1/gpu-types", {}, {}],
    ];
    for (const [pattern, params, query] of cases) {
      const lookup = routes[pattern]?.(params, query, keys);
      if (!lookup) throw new Error(`no route ${pattern}`);
      for (const tag of lookup.tags)
        expect(tagDataClass(tag), `${lookup.key}: ${tag}`).toBe(lookup.dataClass);
    }
  });
});
