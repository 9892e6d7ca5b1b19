/**
 * Cache tags: the names of what a response depends on. The Worker labels every
 * response with them (`Cache-Tag`, L1 and L2 entries); the event Lambda names the
 * same tags when something changes, and every tier evicts by them. Built here and
 * nowhere else, so both sides always agree.
 */
import type { Gpu } from "./domain";

export const tags = {
  gpu: (gpuId: string) => `gpu:${gpuId}`,
  provider: (providerId: string) => `provider:${providerId}`,
  price: (gpuType: string, region: string) => `price:${gpuType}:${region}`,
  marketStats: (region: string, gpuType: string) => `stats:${region}:${gpuType}`,
  orderBook: (gpuType: string, region: string) => `orderbook:${gpuType}:${region}`,
  /** A listing of GPUs filtered by region and/or type; `*` where the filter is absent. */
  listing: (region: string | undefined, gpuType: string | undefined) =>
    `gpus:${region ?? "*"}:${gpuType ?? "*"}`,
  /** Aggregates over several regions or types (price lists, stats lists, order books of a type). */
  priceList: (gpuType: string | undefined, region: string | undefined) =>
    `prices:${gpuType ?? "*"}:${region ?? "*"}`,
  statsList: (region: string | undefined, gpuType: string | undefined) =>
    `stats-list:${region ?? "*"}:${gpuType ?? "*"}`,
  orderBookList: (gpuType: string) => `orderbooks:${gpuType}`,
  reference: (name: "regions" | "gpu-types") => `ref:${name}`,
} as const;

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
