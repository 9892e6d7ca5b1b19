/** The store's reads: records as they are now, frozen, so a caller may keep them as snapshots. */
import type {
  Booking,
  Gpu,
  GpuType,
  MarketStats,
  OrderBook,
  Price,
  Provider,
  Region,
} from "../../../core/domain";
import { findGpuType, findRegion } from "./lookups";
import { matchesPair, pairKey } from "./records";
import type { MarketplaceState } from "./state";
import type { GpuFilter, PairFilter } from "./types";

export class MarketplaceQueries {
  constructor(protected readonly state: MarketplaceState) {}

  get seed(): number {
    return this.state.seed;
  }

  get generatedAt(): string {
    return this.state.generatedAt;
  }

  listRegions(): readonly Region[] {
    return this.state.regions;
  }

  listGpuTypes(): readonly GpuType[] {
    return this.state.gpuTypes;
  }

  getRegion(regionId: string): Region | undefined {
    return findRegion(this.state, regionId);
  }

  getGpuType(gpuType: string): GpuType | undefined {
    return findGpuType(this.state, gpuType);
  }

  getGpu(gpuId: string): Gpu | undefined {
    return this.state.gpus.get(gpuId);
  }

  /** In insertion order (gpuId order for generated data); callers sort for presentation. */
  listGpus(filter: GpuFilter = {}): Gpu[] {
    const result: Gpu[] = [];
    for (const gpu of this.state.gpus.values()) {
      if (filter.region !== undefined && gpu.region !== filter.region) continue;
      if (filter.gpuType !== undefined && gpu.gpuType !== filter.gpuType) continue;
      if (filter.status !== undefined && gpu.status !== filter.status) continue;
      result.push(gpu);
    }
    return result;
  }

  getProvider(providerId: string): Provider | undefined {
    return this.state.providers.get(providerId);
  }

  listProviders(): Provider[] {
    return [...this.state.providers.values()];
  }

  getBooking(bookingId: string): Booking | undefined {
    return this.state.bookings.get(bookingId);
  }

  listBookings(filter: { userId?: string } = {}): Booking[] {
    const all = [...this.state.bookings.values()];
    return filter.userId === undefined ? all : all.filter((booking) => booking.userId === filter.userId);
  }

  getPrice(gpuType: string, region: string): Price | undefined {
    return this.state.prices.get(pairKey(gpuType, region));
  }

  listPrices(filter: PairFilter = {}): Price[] {
    return sortedBy(
      [...this.state.prices.values()].filter((price) => matchesPair(price, filter)),
      (price) => `${price.gpuType}:${price.region}`,
    );
  }

  getMarketStats(region: string, gpuType: string): MarketStats | undefined {
    return this.state.stats.get(pairKey(gpuType, region));
  }

  listMarketStats(filter: PairFilter = {}): MarketStats[] {
    return sortedBy(
      [...this.state.stats.values()].filter((stats) => matchesPair(stats, filter)),
      (stats) => `${stats.region}:${stats.gpuType}`,
    );
  }

  getOrderBook(gpuType: string, region: string): OrderBook | undefined {
    return this.state.orderBooks.get(pairKey(gpuType, region));
  }

  listOrderBooks(filter: PairFilter = {}): OrderBook[] {
    return sortedBy(
      [...this.state.orderBooks.values()].filter((book) => matchesPair(book, filter)),
      (book) => `${book.gpuType}:${book.region}`,
    );
  }
}

/**
 * Lists are answered in the order of their records' Redis keys (`price:<type>:<region>`,
 * `stats:<region>:<type>`, `orderbook:<type>:<region>`), the order the edge's collection views
 * read them in (core/redis/listing-views.ts): a stable order is part of the API.
 */
function sortedBy<T>(items: T[], key: (item: T) => string): T[] {
  return items.sort((a, b) => {
    const [left, right] = [key(a), key(b)];
    return left < right ? -1 : left > right ? 1 : 0;
  });
}
