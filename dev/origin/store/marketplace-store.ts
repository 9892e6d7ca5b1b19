/**
 * The sample marketplace's state: the truth the edge caches. It is an in-memory model built
 * from generated data, with the mutations the booking system later announces as events.
 *
 * By role: state.ts holds the records and the rule for replacing them, queries.ts the
 * reads, changes.ts the mutations, validation.ts what a change must satisfy, and
 * derived-stats.ts the market stats every change re-derives. This class puts them together.
 */
import { type GenerateOptions, generateMarketplace } from "../generate";
import { MarketplaceChanges } from "./changes";
import { MarketplaceQueries } from "./queries";
import { createState, loadState } from "./state";
import type {
  BookingChange,
  CreateBookingInput,
  GpuChange,
  GpuStatus,
  GpuUpsertChange,
  GpuUpsertInput,
  MarketplaceStoreOptions,
  OrderBookChange,
  OrderBookInput,
  PriceChange,
  ProviderChange,
  ProviderStatus,
  ResetSummary,
} from "./types";

export class MarketplaceStore extends MarketplaceQueries {
  #generateOptions: GenerateOptions;
  readonly #changes: MarketplaceChanges;

  constructor(options: MarketplaceStoreOptions = {}) {
    const { now, ...generateOptions } = options;
    super(createState(generateMarketplace(generateOptions)));
    this.#generateOptions = generateOptions;
    this.#changes = new MarketplaceChanges(this.state, this, now ?? (() => new Date()));
  }

  /** Throws the state away and regenerates it; given options replace the ones the store was built with. */
  reset(options: GenerateOptions = {}): ResetSummary {
    this.#generateOptions = { ...this.#generateOptions, ...options };
    loadState(this.state, generateMarketplace(this.#generateOptions));
    const { state } = this;
    return {
      seed: state.seed,
      generatedAt: state.generatedAt,
      counts: {
        regions: state.regions.length,
        gpuTypes: state.gpuTypes.length,
        providers: state.providers.size,
        gpus: state.gpus.size,
        bookings: state.bookings.size,
      },
    };
  }

  createBooking(input: CreateBookingInput): BookingChange {
    return this.#changes.createBooking(input);
  }

  cancelBooking(bookingId: string): BookingChange {
    return this.#changes.cancelBooking(bookingId);
  }

  setGpuStatus(gpuId: string, status: GpuStatus): GpuChange {
    return this.#changes.setGpuStatus(gpuId, status);
  }

  upsertGpu(input: GpuUpsertInput): GpuUpsertChange {
    return this.#changes.upsertGpu(input);
  }

  setPrice(gpuType: string, region: string, pricePerHour: number): PriceChange {
    return this.#changes.setPrice(gpuType, region, pricePerHour);
  }

  setProviderStatus(providerId: string, status: ProviderStatus): ProviderChange {
    return this.#changes.setProviderStatus(providerId, status);
  }

  setOrderBook(gpuType: string, region: string, input: OrderBookInput): OrderBookChange {
    return this.#changes.setOrderBook(gpuType, region, input);
  }
}
