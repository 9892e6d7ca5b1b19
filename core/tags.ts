/**
 * Cache tags: the names of what a response depends on. The Worker labels every
 * response with them (`Cache-Tag`, L1 and L2 entries); the event Lambda names the
 * same tags when something changes, and every tier evicts by them. Built here and
 * nowhere else, so both sides always agree; parseTag, their inverse, is here too.
 *
 * A tag is `<prefix>:<part>[:<part>]`; a part is an identifier (core/identifiers.ts, so
 * never a `:`), or `*` where a filter is absent.
 */
import type { DataClassName } from "./data-classes";
import type { Gpu } from "./domain";
import { isIdentifier } from "./identifiers";

const PREFIXES = {
  gpu: "gpu",
  provider: "provider",
  price: "price",
  marketStats: "stats",
  orderBook: "orderbook",
  listing: "gpus",
  priceList: "prices",
  statsList: "stats-list",
  orderBookList: "orderbooks",
  reference: "ref",
} as const;

/** Stands for an absent filter. */
const ANY = "*";
const REFERENCE_NAMES = ["regions", "gpu-types"] as const;
type ReferenceName = (typeof REFERENCE_NAMES)[number];

const tag = (...parts: string[]) => parts.join(":");

export const tags = {
  gpu: (gpuId: string) => tag(PREFIXES.gpu, gpuId),
  provider: (providerId: string) => tag(PREFIXES.provider, providerId),
  price: (gpuType: string, region: string) => tag(PREFIXES.price, gpuType, region),
  marketStats: (region: string, gpuType: string) => tag(PREFIXES.marketStats, region, gpuType),
  orderBook: (gpuType: string, region: string) => tag(PREFIXES.orderBook, gpuType, region),
  /** A listing of GPUs filtered by region and/or type; `*` where the filter is absent. */
  listing: (region: string | undefined, gpuType: string | undefined) =>
    tag(PREFIXES.listing, region ?? ANY, gpuType ?? ANY),
  /** Aggregates over several regions or types (price lists, stats lists, order books of a type). */
  priceList: (gpuType: string | undefined, region: string | undefined) =>
    tag(PREFIXES.priceList, gpuType ?? ANY, region ?? ANY),
  statsList: (region: string | undefined, gpuType: string | undefined) =>
    tag(PREFIXES.statsList, region ?? ANY, gpuType ?? ANY),
  orderBookList: (gpuType: string) => tag(PREFIXES.orderBookList, gpuType),
  reference: (name: ReferenceName) => tag(PREFIXES.reference, name),
} as const satisfies Record<keyof typeof PREFIXES, unknown>;

/** A tag taken apart: `kind` names its builder in `tags`, the other fields its arguments. */
export type ParsedTag =
  | { readonly kind: "gpu"; readonly gpuId: string }
  | { readonly kind: "provider"; readonly providerId: string }
  | { readonly kind: "price"; readonly gpuType: string; readonly region: string }
  | { readonly kind: "marketStats"; readonly region: string; readonly gpuType: string }
  | { readonly kind: "orderBook"; readonly gpuType: string; readonly region: string }
  | { readonly kind: "listing"; readonly region: string | undefined; readonly gpuType: string | undefined }
  | { readonly kind: "priceList"; readonly gpuType: string | undefined; readonly region: string | undefined }
  | { readonly kind: "statsList"; readonly region: string | undefined; readonly gpuType: string | undefined }
  | { readonly kind: "orderBookList"; readonly gpuType: string }
  | { readonly kind: "reference"; readonly name: ReferenceName };

/** The one identifier part, or undefined when `parts` is not exactly that. */
function oneIdentifier(parts: readonly string[]): string | undefined {
  const [only] = parts;
  return parts.length === 1 && only !== undefined && isIdentifier(only) ? only : undefined;
}

function twoIdentifiers(parts: readonly string[]): [string, string] | undefined {
  const [first, second] = parts;
  if (parts.length !== 2 || first === undefined || second === undefined) return undefined;
  return isIdentifier(first) && isIdentifier(second) ? [first, second] : undefined;
}

const isFilter = (part: string): boolean => part === ANY || isIdentifier(part);
const filterValue = (part: string): string | undefined => (part === ANY ? undefined : part);

/** Two filter parts (`*` → undefined), or undefined when `parts` is not exactly that. */
function twoFilters(parts: readonly string[]): [string | undefined, string | undefined] | undefined {
  const [first, second] = parts;
  if (parts.length !== 2 || first === undefined || second === undefined) return undefined;
  return isFilter(first) && isFilter(second) ? [filterValue(first), filterValue(second)] : undefined;
}

/**
 * The builder and arguments that make `tag`, or undefined for a string no builder
 * makes from identifiers: another prefix, a wrong number of parts, or a part outside
 * the identifier alphabet (e.g. holding `/`, or a `*` where a filter is not allowed).
 */
export function parseTag(tag: string): ParsedTag | undefined {
  const [prefix, ...parts] = tag.split(":");
  switch (prefix) {
    case PREFIXES.gpu: {
      const gpuId = oneIdentifier(parts);
      return gpuId === undefined ? undefined : { kind: "gpu", gpuId };
    }
    case PREFIXES.provider: {
      const providerId = oneIdentifier(parts);
      return providerId === undefined ? undefined : { kind: "provider", providerId };
    }
    case PREFIXES.price: {
      const pair = twoIdentifiers(parts);
      return pair && { kind: "price", gpuType: pair[0], region: pair[1] };
    }
    case PREFIXES.marketStats: {
      const pair = twoIdentifiers(parts);
      return pair && { kind: "marketStats", region: pair[0], gpuType: pair[1] };
    }
    case PREFIXES.orderBook: {
      const pair = twoIdentifiers(parts);
      return pair && { kind: "orderBook", gpuType: pair[0], region: pair[1] };
    }
    case PREFIXES.listing: {
      const pair = twoFilters(parts);
      return pair && { kind: "listing", region: pair[0], gpuType: pair[1] };
    }
    case PREFIXES.priceList: {
      const pair = twoFilters(parts);
      return pair && { kind: "priceList", gpuType: pair[0], region: pair[1] };
    }
    case PREFIXES.statsList: {
      const pair = twoFilters(parts);
      return pair && { kind: "statsList", region: pair[0], gpuType: pair[1] };
    }
    case PREFIXES.orderBookList: {
      const gpuType = oneIdentifier(parts);
      return gpuType === undefined ? undefined : { kind: "orderBookList", gpuType };
    }
    case PREFIXES.reference: {
      const [name] = parts;
      const known = REFERENCE_NAMES.find((candidate) => candidate === name);
      return parts.length === 1 && known !== undefined ? { kind: "reference", name: known } : undefined;
    }
    default:
      return undefined;
  }
}

/** The data class of the responses each kind of tag labels (workers/routes.ts gives each route its class). */
const TAG_DATA_CLASSES: { readonly [Kind in ParsedTag["kind"]]: DataClassName } = {
  gpu: "gpu",
  listing: "availability",
  price: "pricing",
  priceList: "pricing",
  provider: "provider",
  marketStats: "market-stats",
  statsList: "market-stats",
  orderBook: "order-book",
  orderBookList: "order-book",
  reference: "reference",
};

/**
 * The data class of the responses `tag` labels, or undefined for a tag parseTag refuses:
 * a purge decides by the class's front TTL whether it is worth sending, and an unknown tag
 * (an operator's own) is always sent, since nothing says how long its copies live.
 */
export function tagDataClass(tag: string): DataClassName | undefined {
  const parsed = parseTag(tag);
  return parsed === undefined ? undefined : TAG_DATA_CLASSES[parsed.kind];
}

/** Every listing tag a change to a GPU in (region, type) makes stale: exact, by region, by type, all. */
export function listingTagsFor(region: string, gpuType: string): string[] {
  return [
    tags.listing(region, gpuType),
    tags.listing(region, undefined),
    tags.listing(undefined, gpuType),
    tags.listing(undefined, undefined),
  ];
}

export function statsTagsFor(region: string, gpuType: string): string[] {
  return [
    tags.marketStats(region, gpuType),
    tags.statsList(region, undefined),
    tags.statsList(undefined, gpuType),
    tags.statsList(undefined, undefined),
  ];
}

export function priceTagsFor(gpuType: string, region: string): string[] {
  return [
    tags.price(gpuType, region),
    tags.priceList(gpuType, undefined),
    tags.priceList(undefined, region),
    tags.priceList(undefined, undefined),
  ];
}

export function orderBookTagsFor(gpuType: string, region: string): string[] {
  return [tags.orderBook(gpuType, region), tags.orderBookList(gpuType)];
}

/** What a change to one GPU (status, price, booking) makes stale. */
export function tagsForGpuChange(gpu: Pick<Gpu, "gpuId" | "region" | "gpuType">): string[] {
  return [
    tags.gpu(gpu.gpuId),
    ...listingTagsFor(gpu.region, gpu.gpuType),
    ...statsTagsFor(gpu.region, gpu.gpuType),
  ];
}
