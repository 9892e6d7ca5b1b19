/**
 * The edge API's routes (DESIGN "Edge HTTP API") as cache lookups. Each route
 * declares its query parameters; only those count for the cache key, in a fixed
 * order, so unknown or reordered parameters can neither bust nor poison the cache.
 */
import { z } from "zod";
import type { CacheLookup } from "../core/cache/tiered-cache";
import { GPU_STATUSES, identifierSchema } from "../core/domain";
import type { Keyspace } from "../core/keys";
import { tags } from "../core/tags";

export const DEFAULT_LISTING_LIMIT = 50;
export const MAX_LISTING_LIMIT = 500;

/** Bad query or path parameters: answered 400 naming the parameter; nothing is fetched. */
export class InvalidRequestError extends Error {
  override readonly name = "InvalidRequestError";
}

const optionalId = identifierSchema.optional();

/** `name` labels issues without a path of their own (a lone path parameter). */
function parse<T>(schema: z.ZodType<T>, input: unknown, name = "request"): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(
    parsed.error.issues.map((issue) => `${issue.path.join(".") || name}: ${issue.message}`).join("; "),
  );
}

/** Declared parameters, in key order, with values already normalised; absent ones are left out. */
function normalisedKey(
  path: string,
  params: ReadonlyArray<readonly [string, string | number | undefined]>,
): string {
  const query = new URLSearchParams();
  for (const [name, value] of params) if (value !== undefined) query.set(name, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

const listingQuery = z.object({
  region: optionalId,
  type: optionalId,
  status: z.enum(GPU_STATUSES).optional(),
  sort: z.enum(["price", "performance"]).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LISTING_LIMIT).default(DEFAULT_LISTING_LIMIT),
});
const regionTypeQuery = z.object({ region: optionalId, type: optionalId });
const regionQuery = z.object({ region: optionalId });

export type Query = Readonly<Record<string, string | undefined>>;

/** Builds the lookup for a route; throws InvalidRequestError on a bad parameter. */
export type RouteResolver = (
  pathParams: Readonly<Record<string, string>>,
  query: Query,
  keys: Keyspace,
) => CacheLookup;

export const routes: Readonly<Record<string, RouteResolver>> = {
  "/v1/gpus": (_path, query, keys) => {
    const q = parse(listingQuery, query);
    const key = normalisedKey("/v1/gpus", [
      ["region", q.region],
      ["type", q.type],
      ["status", q.status],
      ["sort", q.sort],
      ["limit", q.limit],
    ]);
    return {
      key,
      l2Key: keys.response(key),
      indexed: true,
      dataClass: "availability",
      tags: [tags.listing(q.region, q.type)],
      originPath: key,
    };
  },

  "/v1/gpus/:gpuId": (path, _query, keys) => {
    const gpuId = parse(identifierSchema, path.gpuId, "gpuId");
    const key = `/v1/gpus/${gpuId}`;
    return {
      key,
      l2Key: keys.gpu(gpuId),
      indexed: false,
      dataClass: "gpu",
      tags: [tags.gpu(gpuId)],
      originPath: key,
    };
  },

  "/v1/pricing": (_path, query, keys) => {
    const q = parse(regionTypeQuery, query);
    const key = normalisedKey("/v1/pricing", [
      ["type", q.type],
      ["region", q.region],
    ]);
    if (q.type && q.region) {
      return {
        key,
        l2Key: keys.price(q.type, q.region),
        indexed: false,
        dataClass: "pricing",
        tags: [tags.price(q.type, q.region)],
        originPath: key,
      };
    }
    return {
      key,
      l2Key: keys.response(key),
      indexed: true,
      dataClass: "pricing",
      tags: [tags.priceList(q.type, q.region)],
      originPath: key,
    };
  },

  "/v1/providers/:providerId": (path, _query, keys) => {
    const providerId = parse(identifierSchema, path.providerId, "providerId");
    const key = `/v1/providers/${providerId}`;
    return {
      key,
      l2Key: keys.provider(providerId),
      indexed: false,
      dataClass: "provider",
      tags: [tags.provider(providerId)],
      originPath: key,
    };
  },

  "/v1/market/stats": (_path, query, keys) => {
    const q = parse(regionTypeQuery, query);
    const key = normalisedKey("/v1/market/stats", [
      ["region", q.region],
      ["type", q.type],
    ]);
    if (q.type && q.region) {
      return {
        key,
        l2Key: keys.marketStats(q.region, q.type),
        indexed: false,
        dataClass: "market-stats",
        tags: [tags.marketStats(q.region, q.type)],
        originPath: key,
      };
    }
    return {
      key,
      l2Key: keys.response(key),
      indexed: true,
      dataClass: "market-stats",
      tags: [tags.statsList(q.region, q.type)],
      originPath: key,
    };
  },

  "/v1/orderbook/:gpuType": (path, query, keys) => {
    const gpuType = parse(identifierSchema, path.gpuType, "gpuType");
    const q = parse(regionQuery, query);
    const key = normalisedKey(`/v1/orderbook/${gpuType}`, [["region", q.region]]);
    if (q.region) {
      return {
        key,
        l2Key: keys.orderBook(gpuType, q.region),
        indexed: false,
        dataClass: "order-book",
        tags: [tags.orderBook(gpuType, q.region)],
        originPath: key,
      };
    }
    return {
      key,
      l2Key: keys.response(key),
      indexed: true,
      dataClass: "order-book",
      tags: [tags.orderBookList(gpuType)],
      originPath: key,
    };
  },

  "/v1/regions": (_path, _query, keys) => ({
    key: "/v1/regions",
    l2Key: keys.reference("regions"),
    indexed: false,
    dataClass: "reference",
    tags: [tags.reference("regions")],
    originPath: "/v1/regions",
  }),

  "/v1/gpu-types": (_path, _query, keys) => ({
    key: "/v1/gpu-types",
    l2Key: keys.reference("gpu-types"),
    indexed: false,
    dataClass: "reference",
    tags: [tags.reference("gpu-types")],
    originPath: "/v1/gpu-types",
  }),
};
