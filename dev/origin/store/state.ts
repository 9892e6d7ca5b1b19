/**
 * The store's records and the one rule for changing them: every record handed out is
 * frozen and replaced (never edited) on change, so a caller may keep a record as a
 * snapshot, and each replacement bumps the record's `version` by exactly one.
 */
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
import type { GeneratedData } from "../generate";
import { computeStats } from "./derived-stats";
import { freeze, pairKey } from "./records";

export interface MarketplaceState {
  seed: number;
  generatedAt: string;
  regions: readonly Region[];
  gpuTypes: readonly GpuType[];
  readonly gpus: Map<string, Gpu>;
  readonly providers: Map<string, Provider>;
  readonly bookings: Map<string, Booking>;
  /** gpuId → bookingId of its confirmed booking; a GPU holds at most one. */
  readonly confirmedBookingByGpu: Map<string, string>;
  /** Keyed by pairKey(gpuType, region), as are stats and order books. */
  readonly prices: Map<string, Price>;
  readonly stats: Map<string, MarketStats>;
  readonly orderBooks: Map<string, OrderBook>;
  /** The last generated booking number (bk-000042). */
  bookingSequence: number;
}

export function createState(data: GeneratedData): MarketplaceState {
  const state: MarketplaceState = {
    seed: 0,
    generatedAt: "",
    regions: [],
    gpuTypes: [],
    gpus: new Map(),
    providers: new Map(),
    bookings: new Map(),
    confirmedBookingByGpu: new Map(),
    prices: new Map(),
    stats: new Map(),
    orderBooks: new Map(),
    bookingSequence: 0,
  };
  loadState(state, data);
  return state;
}

/** Replaces everything with generated data; market stats start at version 1, derived from the GPUs. */
export function loadState(state: MarketplaceState, data: GeneratedData): void {
  state.seed = data.seed;
  state.generatedAt = data.generatedAt;
  state.regions = Object.freeze(data.regions.map((region) => freeze(region)));
  state.gpuTypes = Object.freeze(data.gpuTypes.map((type) => freeze(type)));
  for (const map of [
    state.gpus,
    state.providers,
    state.bookings,
    state.confirmedBookingByGpu,
    state.prices,
    state.stats,
    state.orderBooks,
  ]) {
    map.clear();
  }
  for (const gpu of data.gpus) state.gpus.set(gpu.gpuId, freeze(gpu));
  for (const provider of data.providers) state.providers.set(provider.providerId, freeze(provider));
  for (const booking of data.bookings) {
    state.bookings.set(booking.bookingId, freeze(booking));
    if (booking.status === "confirmed") state.confirmedBookingByGpu.set(booking.gpuId, booking.bookingId);
  }
  state.bookingSequence = data.bookings.length;
  for (const price of data.prices) state.prices.set(pairKey(price.gpuType, price.region), freeze(price));
  for (const book of data.orderBooks) state.orderBooks.set(pairKey(book.gpuType, book.region), freeze(book));
  for (const type of data.gpuTypes) {
    for (const region of data.regions) {
      const figures = computeStats(state.gpus.values(), region.regionId, type.gpuType);
      state.stats.set(
        pairKey(type.gpuType, region.regionId),
        freeze({ ...figures, version: 1, updatedAt: data.generatedAt }),
      );
    }
  }
}

export function putGpu(
  state: MarketplaceState,
  gpu: Gpu,
  changes: Partial<Omit<Gpu, "gpuId" | "version" | "updatedAt">>,
  updatedAt: string,
): Gpu {
  return insertGpu(state, { ...gpu, ...changes, version: gpu.version + 1, updatedAt });
}

export function insertGpu(state: MarketplaceState, gpu: Gpu): Gpu {
  const frozen = freeze(gpu);
  state.gpus.set(gpu.gpuId, frozen);
  return frozen;
}

export function putProvider(
  state: MarketplaceState,
  provider: Provider,
  changes: Partial<Pick<Provider, "status" | "gpuIds">>,
  updatedAt: string,
): Provider {
  const next = freeze<Provider>({ ...provider, ...changes, version: provider.version + 1, updatedAt });
  state.providers.set(provider.providerId, next);
  return next;
}
