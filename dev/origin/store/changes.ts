/**
 * The store's mutations, the ones the booking system later announces as events. Each
 * change bumps every record it replaces by exactly one version and stamps `updatedAt`
 * from the injected clock; a call that changes nothing bumps nothing, because a version
 * must mean "this record differs from the previous version".
 */
import type { Booking, Gpu, OrderBook, OrderBookLevel, Price, Provider } from "../../../core/domain";
import { GPU_TYPE_PROFILES } from "../catalog";
import { OriginConflictError, OriginNotFoundError, OriginValidationError } from "../errors";
import { refreshStats } from "./derived-stats";
import { requireGpu, requireGpuType, requireProvider, requireRegion } from "./lookups";
import type { MarketplaceQueries } from "./queries";
import { freeze, pairKey } from "./records";
import { insertGpu, type MarketplaceState, putGpu, putProvider } from "./state";
import type {
  BookingChange,
  CreateBookingInput,
  GpuChange,
  GpuStatus,
  GpuUpsertChange,
  GpuUpsertInput,
  OrderBookChange,
  OrderBookInput,
  PriceChange,
  ProviderChange,
  ProviderStatus,
} from "./types";
import {
  assertGpuFigures,
  assertMoney,
  assertStatusAllowed,
  assertTimestamp,
  normaliseLevels,
} from "./validation";

const HOUR_MS = 3_600_000;

function levelsEqual(a: readonly OrderBookLevel[], b: readonly OrderBookLevel[]): boolean {
  return (
    a.length === b.length &&
    a.every((level, i) => level.pricePerHour === b[i]?.pricePerHour && level.quantity === b[i]?.quantity)
  );
}

export class MarketplaceChanges {
  constructor(
    private readonly state: MarketplaceState,
    private readonly queries: MarketplaceQueries,
    private readonly now: () => Date,
  ) {}

  createBooking(input: CreateBookingInput): BookingChange {
    const { state } = this;
    const gpu = requireGpu(state, input.gpuId);
    if (input.bookingId !== undefined && state.bookings.has(input.bookingId)) {
      throw new OriginConflictError("bookingId", `booking "${input.bookingId}" already exists`);
    }
    if (gpu.status !== "available") {
      throw new OriginConflictError("gpuId", `GPU "${gpu.gpuId}" is ${gpu.status}, not available`);
    }
    const now = this.now();
    const startsAt = input.startsAt ?? now.toISOString();
    const startsMs = assertTimestamp("startsAt", startsAt);
    const endsAt = input.endsAt ?? new Date(startsMs + HOUR_MS).toISOString();
    if (assertTimestamp("endsAt", endsAt) <= startsMs) {
      throw new OriginValidationError("endsAt", "must be after startsAt");
    }

    const booking = freeze<Booking>({
      bookingId: input.bookingId ?? this.#nextBookingId(),
      gpuId: gpu.gpuId,
      userId: input.userId,
      startsAt,
      endsAt,
      pricePerHour: gpu.pricePerHour,
      status: "confirmed",
    });
    state.bookings.set(booking.bookingId, booking);
    state.confirmedBookingByGpu.set(gpu.gpuId, booking.bookingId);
    const updatedAt = now.toISOString();
    const nextGpu = putGpu(state, gpu, { status: "busy" }, updatedAt);
    return { booking, gpu: nextGpu, marketStats: refreshStats(state, [gpu], updatedAt) };
  }

  /** The GPU goes back on the market only if its provider is active; otherwise it follows the provider. */
  cancelBooking(bookingId: string): BookingChange {
    const { state } = this;
    const booking = state.bookings.get(bookingId);
    if (!booking) throw new OriginNotFoundError("bookingId", `no booking "${bookingId}"`);
    if (booking.status !== "confirmed") {
      throw new OriginConflictError("bookingId", `booking "${bookingId}" is already ${booking.status}`);
    }
    const cancelled = freeze<Booking>({ ...booking, status: "cancelled" });
    state.bookings.set(bookingId, cancelled);
    if (state.confirmedBookingByGpu.get(booking.gpuId) === bookingId) {
      state.confirmedBookingByGpu.delete(booking.gpuId);
    }

    const updatedAt = this.now().toISOString();
    const gpu = requireGpu(state, booking.gpuId);
    // A GPU taken out of service while booked stays out of service; only "busy" is released.
    if (gpu.status !== "busy") return { booking: cancelled, gpu, marketStats: [] };
    const provider = requireProvider(state, gpu.providerId);
    const status: GpuStatus = provider.status === "active" ? "available" : provider.status;
    const nextGpu = putGpu(state, gpu, { status }, updatedAt);
    return { booking: cancelled, gpu: nextGpu, marketStats: refreshStats(state, [gpu], updatedAt) };
  }

  setGpuStatus(gpuId: string, status: GpuStatus): GpuChange {
    const { state } = this;
    const gpu = requireGpu(state, gpuId);
    if (gpu.status === status) return { gpu, marketStats: [] };
    assertStatusAllowed(state, gpuId, gpu.providerId, status);
    const updatedAt = this.now().toISOString();
    const nextGpu = putGpu(state, gpu, { status }, updatedAt);
    return { gpu: nextGpu, marketStats: refreshStats(state, [gpu], updatedAt) };
  }

  upsertGpu(input: GpuUpsertInput): GpuUpsertChange {
    const { state } = this;
    const existing = state.gpus.get(input.gpuId);
    const providerId = input.providerId ?? existing?.providerId;
    if (providerId === undefined) throw new OriginValidationError("providerId", "required to create a GPU");
    const provider = requireProvider(state, providerId);
    const gpuTypeId = input.gpuType ?? existing?.gpuType;
    if (gpuTypeId === undefined) throw new OriginValidationError("gpuType", "required to create a GPU");
    const type = requireGpuType(state, gpuTypeId);
    if (input.region !== undefined) {
      requireRegion(state, input.region);
      if (input.region !== provider.region) {
        throw new OriginConflictError(
          "region",
          `provider "${provider.providerId}" is in "${provider.region}"`,
        );
      }
    }
    const status: GpuStatus =
      input.status ?? existing?.status ?? (provider.status === "active" ? "available" : provider.status);
    assertStatusAllowed(state, input.gpuId, provider.providerId, status);

    const performanceScore =
      input.performanceScore ??
      existing?.performanceScore ??
      GPU_TYPE_PROFILES.find((profile) => profile.gpuType === type.gpuType)?.basePerformance;
    if (performanceScore === undefined) {
      throw new OriginValidationError("performanceScore", "required for a GPU type without a default score");
    }
    const fields = {
      providerId: provider.providerId,
      gpuType: type.gpuType,
      region: provider.region,
      status,
      pricePerHour:
        input.pricePerHour ??
        existing?.pricePerHour ??
        this.queries.getPrice(type.gpuType, provider.region)?.pricePerHour ??
        0,
      performanceScore,
      memoryGb: input.memoryGb ?? (existing?.gpuType === type.gpuType ? existing.memoryGb : type.memoryGb),
    };
    assertGpuFigures(fields);

    if (
      existing &&
      (Object.keys(fields) as (keyof typeof fields)[]).every((k) => existing[k] === fields[k])
    ) {
      return { gpu: existing, created: false, providers: [], marketStats: [] };
    }

    const updatedAt = this.now().toISOString();
    const providers: Provider[] = [];
    if (existing?.providerId !== provider.providerId) {
      if (existing) {
        const previous = requireProvider(state, existing.providerId);
        providers.push(
          putProvider(
            state,
            previous,
            { gpuIds: previous.gpuIds.filter((id) => id !== existing.gpuId) },
            updatedAt,
          ),
        );
      }
      providers.push(putProvider(state, provider, { gpuIds: [...provider.gpuIds, input.gpuId] }, updatedAt));
    }
    const gpu = existing
      ? putGpu(state, existing, fields, updatedAt)
      : insertGpu(state, { gpuId: input.gpuId, ...fields, version: 1, updatedAt });
    const touched = existing ? [existing, gpu] : [gpu];
    return { gpu, created: !existing, providers, marketStats: refreshStats(state, touched, updatedAt) };
  }

  /** The list price applies to every GPU of that type in that region, so listings and stats follow it. */
  setPrice(gpuType: string, region: string, pricePerHour: number): PriceChange {
    const { state } = this;
    requireGpuType(state, gpuType);
    requireRegion(state, region);
    assertMoney("pricePerHour", pricePerHour);
    const price = state.prices.get(pairKey(gpuType, region));
    if (!price) throw new OriginNotFoundError("gpuType", `no price for "${gpuType}" in "${region}"`);
    const repriced = this.queries
      .listGpus({ gpuType, region })
      .filter((gpu) => gpu.pricePerHour !== pricePerHour);
    if (price.pricePerHour === pricePerHour && repriced.length === 0) {
      return { price, gpus: [], marketStats: [] };
    }

    const updatedAt = this.now().toISOString();
    const nextPrice = freeze<Price>({ ...price, pricePerHour, version: price.version + 1, updatedAt });
    state.prices.set(pairKey(gpuType, region), nextPrice);
    const gpus = repriced.map((gpu) => putGpu(state, gpu, { pricePerHour }, updatedAt));
    return { price: nextPrice, gpus, marketStats: refreshStats(state, repriced, updatedAt) };
  }

  /**
   * Maintenance/offline takes every GPU of the provider out of service; back to active,
   * each GPU is busy again if it still holds a confirmed booking, else available.
   */
  setProviderStatus(providerId: string, status: ProviderStatus): ProviderChange {
    const { state } = this;
    const provider = requireProvider(state, providerId);
    if (provider.status === status) return { provider, gpus: [], marketStats: [] };

    const updatedAt = this.now().toISOString();
    const nextProvider = putProvider(state, provider, { status }, updatedAt);
    const changed: Gpu[] = [];
    const gpus: Gpu[] = [];
    for (const gpuId of provider.gpuIds) {
      const gpu = requireGpu(state, gpuId);
      const target: GpuStatus =
        status !== "active" ? status : state.confirmedBookingByGpu.has(gpuId) ? "busy" : "available";
      if (gpu.status === target) continue;
      changed.push(gpu);
      gpus.push(putGpu(state, gpu, { status: target }, updatedAt));
    }
    return { provider: nextProvider, gpus, marketStats: refreshStats(state, changed, updatedAt) };
  }

  /** Levels are stored in book order (bids highest first, asks lowest first) whatever order they arrive in. */
  setOrderBook(gpuType: string, region: string, input: OrderBookInput): OrderBookChange {
    const { state } = this;
    requireGpuType(state, gpuType);
    requireRegion(state, region);
    const bids = normaliseLevels("bids", input.bids).sort((a, b) => b.pricePerHour - a.pricePerHour);
    const asks = normaliseLevels("asks", input.asks).sort((a, b) => a.pricePerHour - b.pricePerHour);
    const key = pairKey(gpuType, region);
    const book = state.orderBooks.get(key);
    if (!book) throw new OriginNotFoundError("gpuType", `no order book for "${gpuType}" in "${region}"`);
    if (levelsEqual(book.bids, bids) && levelsEqual(book.asks, asks)) return { orderBook: book };

    const orderBook = freeze<OrderBook>({
      ...book,
      bids,
      asks,
      version: book.version + 1,
      updatedAt: this.now().toISOString(),
    });
    state.orderBooks.set(key, orderBook);
    return { orderBook };
  }

  #nextBookingId(): string {
    let id: string;
    do {
      this.state.bookingSequence += 1;
      id = `bk-${String(this.state.bookingSequence).padStart(6, "0")}`;
    } while (this.state.bookings.has(id));
    return id;
  }
}
