/**
 * Routes as cache lookups (workers/routes.ts, docs/architecture.md "Edge HTTP API"): normalised keys
 * (only declared parameters count, in a fixed order, defaults spelled out), the right
 * L2 key, tags and data class per route, and a 400-class error naming a bad parameter.
 */
import { describe, expect, it } from "vitest";
import { createKeyspace } from "../../core/keys";
import { InvalidRequestError, type RouteResolver, routes } from "../../workers/routes";

function route(pattern: string): RouteResolver {
  const resolve = routes[pattern];
  if (!resolve) throw new Error(`no route ${pattern}`);
  return resolve;
}

const keys = createKeyspace("routes-test");
const listing = route("/v1/gpus");

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("/v1/gpus", () => {
  it("builds an indexed availability lookup with a normalised key", () => {
    expect(listing({}, { region: "us-east", type: "RTX-4090" }, keys)).toEqual({
      key: "/v1/gpus?region=us-east&type=RTX-4090&limit=50",
      l2Key: "routes-test:v1:resp:/v1/gpus?region=us-east&type=RTX-4090&limit=50",
      indexed: true,
      dataClass: "availability",
      tags: ["gpus:us-east:RTX-4090"],
      originPath: "/v1/gpus?region=us-east&type=RTX-4090&limit=50",
      view: { key: "routes-test:v1:view:gpus:us-east:RTX-4090:*:id", limit: 50 },
      references: [
        { parameter: "region", list: "regions", value: "us-east" },
        { parameter: "type", list: "gpu-types", value: "RTX-4090" },
      ],
    });
    const plain = listing({}, {}, keys);
    expect(plain).toMatchObject({ key: "/v1/gpus?limit=50", tags: ["gpus:*:*"] });
    // Nothing to check against the reference data.
    expect(plain.references).toBeUndefined();
  });

  it("ignores unknown parameters and their order", () => {
    const plain = listing({}, { region: "us-east", status: "available", sort: "price" }, keys);
    const noisy = listing(
      {},
      { utm_source: "x", sort: "price", cb: String(Math.random()), status: "available", region: "us-east" },
      keys,
    );
    expect(noisy).toEqual(plain);
    expect(plain.key).toBe("/v1/gpus?region=us-east&status=available&sort=price&limit=50");
  });

  it("spells the default limit out, so ?limit=50 and no limit share a key", () => {
    expect(listing({}, { limit: "50" }, keys).key).toBe(listing({}, {}, keys).key);
    expect(listing({}, { limit: "050" }, keys).key).toBe(listing({}, {}, keys).key);
  });

  it("gives declared parameters their own keys", () => {
    const keysSeen = new Set(
      [
        {},
        { limit: "10" },
        { region: "us-east" },
        { type: "RTX-4090" },
        { status: "busy" },
        { sort: "price" },
        { sort: "performance" },
      ].map((query) => listing({}, query, keys).key),
    );
    expect(keysSeen.size).toBe(7);
  });

  it.each([
    ["limit", "0"],
    ["limit", "501"],
    ["limit", "abc"],
    ["limit", "1.5"],
    ["status", "broken"],
    ["sort", "cheapest"],
    ["region", "us east"],
    ["type", "../etc"],
  ])("rejects %s=%s naming the parameter", (name, value) => {
    const error = errorOf(() => listing({}, { [name]: value }, keys));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(new RegExp(`^${name}: `));
  });

  it("names every bad parameter at once", () => {
    const error = errorOf(() => listing({}, { limit: "0", sort: "x" }, keys));
    expect(error.message).toMatch(/sort: .*; limit: |limit: .*; sort: /);
  });
});

describe("entity routes", () => {
  it("/v1/gpus/:gpuId is a gpu-class entity lookup", () => {
    expect(route("/v1/gpus/:gpuId")({ gpuId: "gpu-00001" }, { junk: "1" }, keys)).toEqual({
      key: "/v1/gpus/gpu-00001",
      l2Key: keys.gpu("gpu-00001"),
      indexed: false,
      dataClass: "gpu",
      tags: ["gpu:gpu-00001"],
      originPath: "/v1/gpus/gpu-00001",
    });
  });

  it("/v1/providers/:providerId is a provider-class entity lookup", () => {
    expect(route("/v1/providers/:providerId")({ providerId: "prov-1" }, {}, keys)).toMatchObject({
      l2Key: keys.provider("prov-1"),
      indexed: false,
      dataClass: "provider",
      tags: ["provider:prov-1"],
    });
  });

  it.each([
    ["/v1/gpus/:gpuId", "gpuId"],
    ["/v1/providers/:providerId", "providerId"],
    ["/v1/orderbook/:gpuType", "gpuType"],
  ])("%s rejects a bad path parameter", (pattern, name) => {
    const error = errorOf(() => route(pattern)({ [name]: "bad id!" }, {}, keys));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain("must be letters, digits");
  });
});

describe("routes that are an entity with both filters and an aggregate otherwise", () => {
  it("/v1/pricing", () => {
    const pricing = route("/v1/pricing");
    const both = pricing({}, { region: "us-east", type: "RTX-4090", x: "1" }, keys);
    expect(both).toEqual(pricing({}, { type: "RTX-4090", region: "us-east" }, keys));
    expect(both).toMatchObject({
      key: "/v1/pricing?type=RTX-4090&region=us-east",
      l2Key: keys.price("RTX-4090", "us-east"),
      indexed: false,
      dataClass: "pricing",
      tags: ["price:RTX-4090:us-east"],
    });
    expect(pricing({}, { region: "us-east" }, keys)).toMatchObject({
      key: "/v1/pricing?region=us-east",
      l2Key: keys.response("/v1/pricing?region=us-east"),
      indexed: true,
      tags: ["prices:*:us-east"],
    });
  });

  it("/v1/market/stats", () => {
    const stats = route("/v1/market/stats");
    expect(stats({}, { type: "A100", region: "eu-west" }, keys)).toMatchObject({
      key: "/v1/market/stats?region=eu-west&type=A100",
      l2Key: keys.marketStats("eu-west", "A100"),
      indexed: false,
      dataClass: "market-stats",
      tags: ["stats:eu-west:A100"],
      references: [
        { parameter: "region", list: "regions", value: "eu-west" },
        { parameter: "type", list: "gpu-types", value: "A100" },
      ],
    });
    expect(stats({}, { type: "A100" }, keys)).toMatchObject({
      key: "/v1/market/stats?type=A100",
      indexed: true,
      tags: ["stats-list:*:A100"],
    });
  });

  it("/v1/orderbook/:gpuType", () => {
    const book = route("/v1/orderbook/:gpuType");
    expect(book({ gpuType: "A100" }, { region: "eu-west", depth: "5" }, keys)).toMatchObject({
      key: "/v1/orderbook/A100?region=eu-west",
      l2Key: keys.orderBook("A100", "eu-west"),
      indexed: false,
      dataClass: "order-book",
      tags: ["orderbook:A100:eu-west"],
      references: [
        { parameter: "gpuType", list: "gpu-types", value: "A100" },
        { parameter: "region", list: "regions", value: "eu-west" },
      ],
    });
    expect(book({ gpuType: "A100" }, {}, keys)).toMatchObject({
      key: "/v1/orderbook/A100",
      l2Key: keys.response("/v1/orderbook/A100"),
      indexed: true,
      tags: ["orderbooks:A100"],
      references: [{ parameter: "gpuType", list: "gpu-types", value: "A100" }],
    });
  });

  it("reference routes ignore every parameter", () => {
    expect(route("/v1/regions")({}, { region: "x" }, keys)).toEqual({
      key: "/v1/regions",
      l2Key: keys.reference("regions"),
      indexed: false,
      dataClass: "reference",
      tags: ["ref:regions"],
      originPath: "/v1/regions",
    });
    expect(route("/v1/gpu-types")({}, {}, keys)).toMatchObject({
      tags: ["ref:gpu-types"],
      dataClass: "reference",
    });
    expect(route("/v1/regions")({}, { region: "x" }, keys).references).toBeUndefined();
  });
});
