/**
 * The edge API's routes (docs/architecture.md "Edge HTTP API") as cache lookups. Each route
 * declares its query parameters; only those count for the cache key, in a fixed
 * order, so unknown or reordered parameters can neither bust nor poison the cache. Values
 * that must name a region or a GPU type are listed with the lookup, for the Worker to check
 * against the reference data (workers/reference-catalog.ts) before anything is fetched.
 */
import type { CacheLookup } from "../core/cache/tiered-cache";
import type { DataClassName } from "../core/data-classes";
import { identifierProblems } from "../core/identifiers";
import type { Keyspace } from "../core/keys";
import { GPU_STATUSES } from "../core/statuses";
import { tags } from "../core/tags";

export const DEFAULT_LISTING_LIMIT = 50;
export const MAX_LISTING_LIMIT = 500;

/** Bad query or path parameters: answered 400 naming the parameter; nothing is fetched. */
export class InvalidRequestError extends Error {
  override readonly name = "InvalidRequestError";
}

/*
 * Parameters are checked by hand, not with zod: zod would be a third of the Worker's bundle
 * (and of its cold start) for five rules. The messages are worded as zod worded them.
 */

/** One parameter's value, or every problem with it (each named after the parameter in the error). */
type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: string[] };

/** Checks one parameter's value (undefined: absent). */
type ParameterRule<T> = (value: string | undefined) => Checked<T>;

type QueryShape = Readonly<Record<string, ParameterRule<unknown>>>;
type ParsedQuery<Shape extends QueryShape> = {
  readonly [Name in keyof Shape]: Shape[Name] extends ParameterRule<infer T> ? T : never;
};

const valid = <T>(value: T): Checked<T> => ({ ok: true, value });
const invalid = (...problems: string[]): Checked<never> => ({ ok: false, problems });

function identifier(value: string | undefined): Checked<string> {
  if (value === undefined) return invalid("Invalid input: expected string, received undefined");
  const problems = identifierProblems(value);
  return problems.length === 0 ? valid(value) : invalid(...problems);
}

const optionalId: ParameterRule<string | undefined> = (value) =>
  value === undefined ? valid(undefined) : identifier(value);

function optionalOneOf<const Values extends readonly string[]>(
  values: Values,
): ParameterRule<Values[number] | undefined> {
  const expected = `Invalid option: expected one of ${values.map((value) => JSON.stringify(value)).join("|")}`;
  return (value) => {
    if (value === undefined) return valid(undefined);
    const known = values.find((candidate) => candidate === value);
    return known === undefined ? invalid(expected) : valid(known);
  };
}

/** An integer in [min, max], read as `Number()` reads it (so `050` and `5e1` are 50); `fallback` when absent. */
function integerIn(min: number, max: number, fallback: number): ParameterRule<number> {
  return (value) => {
    if (value === undefined) return valid(fallback);
    const number = Number(value);
    if (!Number.isFinite(number)) return invalid(`Invalid input: expected number, received ${number}`);
    if (!Number.isInteger(number)) return invalid("Invalid input: expected int, received number");
    if (number < min) return invalid(`Too small: expected number to be >=${min}`);
    if (number > max) return invalid(`Too big: expected number to be <=${max}`);
    return valid(number);
  };
}

/** The declared parameters of `query`, checked; every problem is named at once, in declaration order. */
function parseQuery<Shape extends QueryShape>(shape: Shape, query: Query): ParsedQuery<Shape> {
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(shape)) {
    const checked = rule(Object.hasOwn(query, name) ? query[name] : undefined);
    if (checked.ok) parsed[name] = checked.value;
    else for (const problem of checked.problems) problems.push(`${name}: ${problem}`);
  }
  if (problems.length > 0) throw new InvalidRequestError(problems.join("; "));
  return parsed as ParsedQuery<Shape>;
}

/** A path parameter that must be an identifier. */
function pathIdentifier(path: Readonly<Record<string, string>>, name: string): string {
  const checked = identifier(Object.hasOwn(path, name) ? path[name] : undefined);
  if (checked.ok) return checked.value;
  throw new InvalidRequestError(checked.problems.map((problem) => `${name}: ${problem}`).join("; "));
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

const listingQuery = {
  region: optionalId,
  type: optionalId,
  status: optionalOneOf(GPU_STATUSES),
  sort: optionalOneOf(["price", "performance"]),
  limit: integerIn(1, MAX_LISTING_LIMIT, DEFAULT_LISTING_LIMIT),
} satisfies QueryShape;
const regionTypeQuery = { region: optionalId, type: optionalId } satisfies QueryShape;
const regionQuery = { region: optionalId } satisfies QueryShape;

/**
 * Every query parameter a route reads (the origin's names too): the origin version parameter
 * must be none of them (workers/config.ts), or the origin would read a version as a filter.
 */
export const ROUTE_QUERY_PARAMETERS: readonly string[] = [
  ...new Set([listingQuery, regionTypeQuery, regionQuery].flatMap((shape) => Object.keys(shape))),
];

export type Query = Readonly<Record<string, string | undefined>>;

/** The reference lists a parameter can be checked against (`/v1/regions`, `/v1/gpu-types`). */
export type ReferenceList = "regions" | "gpu-types";

/** A parameter whose value must be an entry of a reference list. */
export interface ReferenceCheck {
  /** As the request names it (`region`, `type`, `gpuType`): the 400 names it too. */
  readonly parameter: string;
  readonly list: ReferenceList;
  readonly value: string;
}

/** A lookup and the values in it that must name a known region or GPU type (absent: none). */
export interface RouteLookup extends CacheLookup {
  readonly references?: readonly ReferenceCheck[];
}

/** Builds the lookup for a route; throws InvalidRequestError on a bad parameter. */
export type RouteResolver = (
  pathParams: Readonly<Record<string, string>>,
  query: Query,
  keys: Keyspace,
) => RouteLookup;

function region(value: string | undefined, parameter = "region"): ReferenceCheck | undefined {
  return value === undefined ? undefined : { parameter, list: "regions", value };
}

function gpuType(value: string | undefined, parameter = "type"): ReferenceCheck | undefined {
  return value === undefined ? undefined : { parameter, list: "gpu-types", value };
}

function checked(lookup: CacheLookup, ...checks: Array<ReferenceCheck | undefined>): RouteLookup {
  const references = checks.filter((check) => check !== undefined);
  return references.length > 0 ? { ...lookup, references } : lookup;
}

/** An entity record: the key the event Lambda writes through, evicted by the entity's own tag. */
function entity(key: string, dataClass: DataClassName, l2Key: string, tag: string): CacheLookup {
  return { key, l2Key, indexed: false, dataClass, tags: [tag], originPath: key };
}

/** A whole response over several entities, kept under its normalised key and indexed by its tag. */
function aggregate(keys: Keyspace, key: string, dataClass: DataClassName, tag: string): CacheLookup {
  return { key, l2Key: keys.response(key), indexed: true, dataClass, tags: [tag], originPath: key };
}

/** A route filtered by region and GPU type: both given name one entity, anything less an aggregate. */
interface RegionTypeRoute {
  readonly path: string;
  /** The parameters' order in the cache key; it is part of every stored key, so it never changes. */
  readonly keyOrder: readonly ["type", "region"] | readonly ["region", "type"];
  readonly dataClass: DataClassName;
  readonly entityKey: (type: string, region: string) => string;
  readonly entityTag: (type: string, region: string) => string;
  readonly listTag: (type: string | undefined, region: string | undefined) => string;
  /** The collection view the list is kept in (core/redis/listing-views.ts). */
  readonly listView: (type: string | undefined, region: string | undefined) => string;
}

/** A whole list kept as a collection view: all its records (limit 0), read in one command. */
function collection(lookup: CacheLookup, viewKey: string): CacheLookup {
  return { ...lookup, view: { key: viewKey, limit: 0 } };
}

function regionTypeRoute(query: Query, keys: Keyspace, route: RegionTypeRoute): RouteLookup {
  const q = parseQuery(regionTypeQuery, query);
  const key = normalisedKey(
    route.path,
    route.keyOrder.map((name) => [name, q[name]] as const),
  );
  const lookup =
    q.type && q.region
      ? entity(key, route.dataClass, route.entityKey(q.type, q.region), route.entityTag(q.type, q.region))
      : collection(
          aggregate(keys, key, route.dataClass, route.listTag(q.type, q.region)),
          route.listView(q.type, q.region),
        );
  return checked(lookup, region(q.region), gpuType(q.type));
}

export const routes: Readonly<Record<string, RouteResolver>> = {
  "/v1/gpus": (_path, query, keys) => {
    const q = parseQuery(listingQuery, query);
    const key = normalisedKey("/v1/gpus", [
      ["region", q.region],
      ["type", q.type],
      ["status", q.status],
      ["sort", q.sort],
      ["limit", q.limit],
    ]);
    // Kept by the event Lambda as a view in Redis (core/redis/listing-views.ts): one read, no origin.
    const view = { key: keys.listingView(q.region, q.type, q.status, q.sort ?? "id"), limit: q.limit };
    return checked(
      { ...aggregate(keys, key, "availability", tags.listing(q.region, q.type)), view },
      region(q.region),
      gpuType(q.type),
    );
  },

  "/v1/gpus/:gpuId": (path, _query, keys) => {
    const gpuId = pathIdentifier(path, "gpuId");
    return entity(`/v1/gpus/${gpuId}`, "gpu", keys.gpu(gpuId), tags.gpu(gpuId));
  },

  "/v1/pricing": (_path, query, keys) =>
    regionTypeRoute(query, keys, {
      path: "/v1/pricing",
      keyOrder: ["type", "region"],
      dataClass: "pricing",
      entityKey: (type, region) => keys.price(type, region),
      entityTag: (type, region) => tags.price(type, region),
      listTag: (type, region) => tags.priceList(type, region),
      listView: (type, region) => keys.collectionView("prices", type, region),
    }),

  "/v1/providers/:providerId": (path, _query, keys) => {
    const providerId = pathIdentifier(path, "providerId");
    return entity(
      `/v1/providers/${providerId}`,
      "provider",
      keys.provider(providerId),
      tags.provider(providerId),
    );
  },

  "/v1/market/stats": (_path, query, keys) =>
    regionTypeRoute(query, keys, {
      path: "/v1/market/stats",
      keyOrder: ["region", "type"],
      dataClass: "market-stats",
      entityKey: (type, region) => keys.marketStats(region, type),
      entityTag: (type, region) => tags.marketStats(region, type),
      listTag: (type, region) => tags.statsList(region, type),
      listView: (type, region) => keys.collectionView("stats", region, type),
    }),

  "/v1/orderbook/:gpuType": (path, query, keys) => {
    const type = pathIdentifier(path, "gpuType");
    const q = parseQuery(regionQuery, query);
    const key = normalisedKey(`/v1/orderbook/${type}`, [["region", q.region]]);
    const lookup = q.region
      ? entity(key, "order-book", keys.orderBook(type, q.region), tags.orderBook(type, q.region))
      : collection(
          aggregate(keys, key, "order-book", tags.orderBookList(type)),
          keys.collectionView("orderbooks", type, undefined),
        );
    return checked(lookup, gpuType(type, "gpuType"), region(q.region));
  },

  "/v1/regions": (_path, _query, keys) =>
    entity("/v1/regions", "reference", keys.reference("regions"), tags.reference("regions")),

  "/v1/gpu-types": (_path, _query, keys) =>
    entity("/v1/gpu-types", "reference", keys.reference("gpu-types"), tags.reference("gpu-types")),
};

/** The route each reference list is read from (through the cache, like any client's read). */
export const REFERENCE_ROUTES: Readonly<Record<ReferenceList, string>> = {
  regions: "/v1/regions",
  "gpu-types": "/v1/gpu-types",
};
