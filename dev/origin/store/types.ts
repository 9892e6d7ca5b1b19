/** The store's inputs and answers; a change names every record it replaced, so a caller can build the matching event. */
import type {
  Booking,
  Gpu,
  MarketStats,
  OrderBook,
  OrderBookLevel,
  Price,
  Provider,
} from "../../../core/domain";
import type { GenerateOptions } from "../generate";

export type GpuStatus = Gpu["status"];
export type ProviderStatus = Provider["status"];

export interface MarketplaceStoreOptions extends GenerateOptions {
  /** Source of `updatedAt` and default booking times; injectable so tests control time. */
  now?: () => Date;
}

export interface GpuFilter {
  region?: string;
  gpuType?: string;
  status?: GpuStatus;
}

export interface PairFilter {
  region?: string;
  gpuType?: string;
}

export interface CreateBookingInput {
  bookingId?: string;
  gpuId: string;
  userId: string;
  startsAt?: string;
  endsAt?: string;
}

/** Fields a GPU may be created or updated with; omitted fields keep their value (or a derived default). */
export interface GpuUpsertInput {
  gpuId: string;
  providerId?: string;
  gpuType?: string;
  region?: string;
  status?: GpuStatus;
  pricePerHour?: number;
  performanceScore?: number;
  memoryGb?: number;
}

export interface OrderBookInput {
  bids: OrderBookLevel[];
  asks: OrderBookLevel[];
}

/** Results name every record a mutation changed, with its new version, so a caller can build the matching event. */
export interface BookingChange {
  booking: Booking;
  gpu: Gpu;
  marketStats: MarketStats[];
}

export interface GpuChange {
  gpu: Gpu;
  marketStats: MarketStats[];
}

export interface GpuUpsertChange extends GpuChange {
  created: boolean;
  providers: Provider[];
}

export interface PriceChange {
  price: Price;
  gpus: Gpu[];
  marketStats: MarketStats[];
}

export interface ProviderChange {
  provider: Provider;
  gpus: Gpu[];
  marketStats: MarketStats[];
}

export interface OrderBookChange {
  orderBook: OrderBook;
}

export interface ResetSummary {
  seed: number;
  generatedAt: string;
  counts: { regions: number; gpuTypes: number; providers: number; gpus: number; bookings: number };
}
