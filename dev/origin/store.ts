/**
 * The sample marketplace's state: the truth the edge caches. It is an in-memory model built
 * from generated data, with the mutations the booking system later announces as events.
 *
 * Every record handed out is frozen and replaced (never edited) on change, so a caller may
 * keep a record as a snapshot. Each change bumps the changed entity's `version` by exactly
 * one and stamps `updatedAt` from the injected clock; a call that changes nothing bumps
 * nothing, because a version must mean "this record differs from the previous version".
 */
import type {
  Booking,
  Gpu,
  GpuType,
  MarketStats,
  OrderBook,
  OrderBookLevel,
  Price,
  Provider,
  Region,
} from "../../core/domain";
import { GPU_TYPE_PROFILES } from "./catalog";
import { OriginConflictError, OriginNotFoundError, OriginValidationError } from "./errors";
import { type GeneratedData, type GenerateOptions, generateMarketplace } from "./generate";

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

const HOUR_MS = 3_600_000;

function pairKey(gpuType: string, region: string): string {
  return `${gpuType}|${region}`;
}

function freeze<T extends object>(record: T): Readonly<T> {
  for (const value of Object.values(record)) {
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === "object" && item !== null) Object.freeze(item);
      Object.freeze(value);
    }
  }
  return Object.freeze(record);
}

function levelsEqual(a: readonly OrderBookLevel[], b: readonly OrderBookLevel[]): boolean {
  return (
    a.length === b.length &&
    a.every((level, i) => level.pricePerHour === b[i]?.pricePerHour && level.quantity === b[i]?.quantity)
  );
}

/**
 * Rounded to 1/100 of a cent: a float sum drifts (ten GPUs at 0.55 average 0.5499999999999989),
 * and a dashboard or a test comparing the figure with a listed price should see 0.55.
 */
function averagePrice(prices: readonly number[]): number {
  return Math.round((prices.reduce((sum, price) => sum + price, 0) / prices.length) * 10_000) / 10_000;
}

function assertMoney(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new OriginValidationError(field, `must be a finite number >= 0, got ${value}`);
  }
}

function assertTimestamp(field: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new OriginValidationError(field, `not a timestamp: "${value}"`);
  return ms;
}

function normaliseLevels(field: string, levels: readonly OrderBookLevel[]): OrderBookLevel[] {
  return levels.map((level, i) => {
    assertMoney(`${field}[${i}].pricePerHour`, level.pricePerHour);
    if (!Number.isInteger(level.quantity) || level.quantity < 1) {
      throw new OriginValidationError(
        `${field}[${i}].quantity`,
        `must be a positive integer, got ${level.quantity}`,
      );
    }
    return { pricePerHour: level.pricePerHour, quantity: level.quantity };
  });
}

export class MarketplaceStore {
  readonly #now: () => Date;
  #generateOptions: GenerateOptions;
  #seed = 0;
  #generatedAt = "";
  #regions: readonly Region[] = [];
  #gpuTypes: readonly GpuType[] = [];
  readonly #gpus = new Map<string, Gpu>();
  readonly #providers = new Map<string, Provider>();
  readonly #bookings = new Map<string, Booking>();
  /** gpuId → bookingId of its confirmed booking; a GPU holds at most one. */
  readonly #confirmedBookingByGpu = new Map<string, string>();
  readonly #prices = new Map<string, Price>();
  readonly #stats = new Map<string, MarketStats>();
  readonly #orderBooks = new Map<string, OrderBook>();
  #bookingSequence = 0;

  constructor(options: MarketplaceStoreOptions = {}) {
    const { now, ...generateOptions } = options;
    this.#now = now ?? (() => new Date());
    this.#generateOptions = generateOptions;
    this.#load(generateMarketplace(generateOptions));
  }

  /** Throws the state away and regenerates it; given options replace the ones the store was built with. */
  reset(options: GenerateOptions = {}): ResetSummary {
    this.#generateOptions = { ...this.#generateOptions, ...options };
    this.#load(generateMarketplace(this.#generateOptions));
    return {
      seed: this.#seed,
      generatedAt: this.#generatedAt,
      counts: {
        regions: this.#regions.length,
        gpuTypes: this.#gpuTypes.length,
        providers: this.#providers.size,
        gpus: this.#gpus.size,
        bookings: this.#bookings.size,
      },
    };
  }

  get seed(): number {
    return this.#seed;
  }

  get generatedAt(): string {
    return this.#generatedAt;
  }

  // ---- reads -------------------------------------------------------------------------------

  listRegions(): readonly Region[] {
    return this.#regions;
  }

  listGpuTypes(): readonly GpuType[] {
    return this.#gpuTypes;
  }

  getRegion(regionId: string): Region | undefined {
    return this.#regions.find((region) => region.regionId === regionId);
  }

  getGpuType(gpuType: string): GpuType | undefined {
    return this.#gpuTypes.find((type) => type.gpuType === gpuType);
  }

  getGpu(gpuId: string): Gpu | undefined {
    return this.#gpus.get(gpuId);
  }

  /** In insertion order (gpuId order for generated data); callers sort for presentation. */
  listGpus(filter: GpuFilter = {}): Gpu[] {
    const result: Gpu[] = [];
    for (const gpu of this.#gpus.values()) {
      if (filter.region !== undefined && gpu.region !== filter.region) continue;
      if (filter.gpuType !== undefined && gpu.gpuType !== filter.gpuType) continue;
      if (filter.status !== undefined && gpu.status !== filter.status) continue;
      result.push(gpu);
    }
    return result;
  }

  getProvider(providerId: string): Provider | undefined {
    return this.#providers.get(providerId);
  }

  listProviders(): Provider[] {
    return [...this.#providers.values()];
  }

  getBooking(bookingId: string): Booking | undefined {
    return this.#bookings.get(bookingId);
  }

  listBookings(filter: { userId?: string } = {}): Booking[] {
    const all = [...this.#bookings.values()];
    return filter.userId === undefined ? all : all.filter((booking) => booking.userId === filter.userId);
  }

  getPrice(gpuType: string, region: string): Price | undefined {
    return this.#prices.get(pairKey(gpuType, region));
  }

  listPrices(filter: PairFilter = {}): Price[] {
    return [...this.#prices.values()].filter((price) => matchesPair(price, filter));
  }

  getMarketStats(region: string, gpuType: string): MarketStats | undefined {
    return this.#stats.get(pairKey(gpuType, region));
  }

  listMarketStats(filter: PairFilter = {}): MarketStats[] {
    return [...this.#stats.values()].filter((stats) => matchesPair(stats, filter));
  }

  getOrderBook(gpuType: string, region: string): OrderBook | undefined {
    return this.#orderBooks.get(pairKey(gpuType, region));
  }

  listOrderBooks(filter: PairFilter = {}): OrderBook[] {
    return [...this.#orderBooks.values()].filter((book) => matchesPair(book, filter));
  }

  // ---- mutations ---------------------------------------------------------------------------

  createBooking(input: CreateBookingInput): BookingChange {
    const gpu = this.#requireGpu(input.gpuId);
    if (input.bookingId !== undefined && this.#bookings.has(input.bookingId)) {
      throw new OriginConflictError("bookingId", `booking "${input.bookingId}" already exists`);
    }
    if (gpu.status !== "available") {
      throw new OriginConflictError("gpuId", `GPU "${gpu.gpuId}" is ${gpu.status}, not available`);
    }
    const now = this.#now();
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
    this.#bookings.set(booking.bookingId, booking);
    this.#confirmedBookingByGpu.set(gpu.gpuId, booking.bookingId);
    const updatedAt = now.toISOString();
    const nextGpu = this.#putGpu(gpu, { status: "busy" }, updatedAt);
    return { booking, gpu: nextGpu, marketStats: this.#refreshStats([gpu], updatedAt) };
  }

  /** The GPU goes back on the market only if its provider is active; otherwise it follows the provider. */
  cancelBooking(bookingId: string): BookingChange {
    const booking = this.#bookings.get(bookingId);
    if (!booking) throw new OriginNotFoundError("bookingId", `no booking "${bookingId}"`);
    if (booking.status !== "confirmed") {
      throw new OriginConflictError("bookingId", `booking "${bookingId}" is already ${booking.status}`);
    }
    const cancelled = freeze<Booking>({ ...booking, status: "cancelled" });
    this.#bookings.set(bookingId, cancelled);
    if (this.#confirmedBookingByGpu.get(booking.gpuId) === bookingId) {
      this.#confirmedBookingByGpu.delete(booking.gpuId);
    }

    const updatedAt = this.#now().toISOString();
    const gpu = this.#requireGpu(booking.gpuId);
    // A GPU taken out of service while booked stays out of service; only "busy" is released.
    if (gpu.status !== "busy") return { booking: cancelled, gpu, marketStats: [] };
    const provider = this.#requireProvider(gpu.providerId);
    const status: GpuStatus = provider.status === "active" ? "available" : provider.status;
    const nextGpu = this.#putGpu(gpu, { status }, updatedAt);
    return { booking: cancelled, gpu: nextGpu, marketStats: this.#refreshStats([gpu], updatedAt) };
  }

  setGpuStatus(gpuId: string, status: GpuStatus): GpuChange {
    const gpu = this.#requireGpu(gpuId);
    if (gpu.status === status) return { gpu, marketStats: [] };
    this.#assertStatusAllowed(gpuId, gpu.providerId, status);
    const updatedAt = this.#now().toISOString();
    const nextGpu = this.#putGpu(gpu, { status }, updatedAt);
    return { gpu: nextGpu, marketStats: this.#refreshStats([gpu], updatedAt) };
  }

  upsertGpu(input: GpuUpsertInput): GpuUpsertChange {
    const existing = this.#gpus.get(input.gpuId);
    const providerId = input.providerId ?? existing?.providerId;
    if (providerId === undefined) throw new OriginValidationError("providerId", "required to create a GPU");
    const provider = this.#requireProvider(providerId);
    const gpuTypeId = input.gpuType ?? existing?.gpuType;
    if (gpuTypeId === undefined) throw new OriginValidationError("gpuType", "required to create a GPU");
    const type = this.#requireGpuType(gpuTypeId);
    if (input.region !== undefined) {
      this.#requireRegion(input.region);
      if (input.region !== provider.region) {
        throw new OriginConflictError(
          "region",
          `provider "${provider.providerId}" is in "${provider.region}"`,
        );
      }
    }
    const status: GpuStatus =
      input.status ?? existing?.status ?? (provider.status === "active" ? "available" : provider.status);
    this.#assertStatusAllowed(input.gpuId, provider.providerId, status);

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
        this.getPrice(type.gpuType, provider.region)?.pricePerHour ??
        0,
      performanceScore,
      memoryGb: input.memoryGb ?? (existing?.gpuType === type.gpuType ? existing.memoryGb : type.memoryGb),
    };
    assertMoney("pricePerHour", fields.pricePerHour);
    if (!Number.isFinite(fields.performanceScore) || fields.performanceScore < 0) {
      throw new OriginValidationError(
        "performanceScore",
        `must be a finite number >= 0, got ${performanceScore}`,
      );
    }
    if (!Number.isInteger(fields.memoryGb) || fields.memoryGb < 1) {
      throw new OriginValidationError("memoryGb", `must be a positive integer, got ${fields.memoryGb}`);
    }

    if (
      existing &&
      (Object.keys(fields) as (keyof typeof fields)[]).every((k) => existing[k] === fields[k])
    ) {
      return { gpu: existing, created: false, providers: [], marketStats: [] };
    }

    const updatedAt = this.#now().toISOString();
    const providers: Provider[] = [];
    if (existing?.providerId !== provider.providerId) {
      if (existing) {
        const previous = this.#requireProvider(existing.providerId);
        providers.push(
          this.#putProvider(
            previous,
            { gpuIds: previous.gpuIds.filter((id) => id !== existing.gpuId) },
            updatedAt,
          ),
        );
      }
      providers.push(this.#putProvider(provider, { gpuIds: [...provider.gpuIds, input.gpuId] }, updatedAt));
    }
    const gpu = existing
      ? this.#putGpu(existing, fields, updatedAt)
      : this.#insertGpu({ gpuId: input.gpuId, ...fields, version: 1, updatedAt });
    const touched = existing ? [existing, gpu] : [gpu];
    return { gpu, created: !existing, providers, marketStats: this.#refreshStats(touched, updatedAt) };
  }

  /** The list price applies to every GPU of that type in that region, so listings and stats follow it. */
  setPrice(gpuType: string, region: string, pricePerHour: number): PriceChange {
    this.#requireGpuType(gpuType);
    this.#requireRegion(region);
    assertMoney("pricePerHour", pricePerHour);
    const price = this.#prices.get(pairKey(gpuType, region));
    if (!price) throw new OriginNotFoundError("gpuType", `no price for "${gpuType}" in "${region}"`);
    const repriced = this.listGpus({ gpuType, region }).filter((gpu) => gpu.pricePerHour !== pricePerHour);
    if (price.pricePerHour === pricePerHour && repriced.length === 0) {
      return { price, gpus: [], marketStats: [] };
    }

    const updatedAt = this.#now().toISOString();
    const nextPrice = freeze<Price>({ ...price, pricePerHour, version: price.version + 1, updatedAt });
    this.#prices.set(pairKey(gpuType, region), nextPrice);
    const gpus = repriced.map((gpu) => this.#putGpu(gpu, { pricePerHour }, updatedAt));
    return { price: nextPrice, gpus, marketStats: this.#refreshStats(repriced, updatedAt) };
  }

  /**
   * Maintenance/offline takes every GPU of the provider out of service; back to active,
   * each GPU is busy again if it still holds a confirmed booking, else available.
   */
  setProviderStatus(providerId: string, status: ProviderStatus): ProviderChange {
    const provider = this.#requireProvider(providerId);
    if (provider.status === status) return { provider, gpus: [], marketStats: [] };

    const updatedAt = this.#now().toISOString();
    const nextProvider = this.#putProvider(provider, { status }, updatedAt);
    const changed: Gpu[] = [];
    const gpus: Gpu[] = [];
    for (const gpuId of provider.gpuIds) {
      const gpu = this.#requireGpu(gpuId);
      const target: GpuStatus =
        status !== "active" ? status : this.#confirmedBookingByGpu.has(gpuId) ? "busy" : "available";
      if (gpu.status === target) continue;
      changed.push(gpu);
      gpus.push(this.#putGpu(gpu, { status: target }, updatedAt));
    }
    return { provider: nextProvider, gpus, marketStats: this.#refreshStats(changed, updatedAt) };
  }

  /** Levels are stored in book order (bids highest first, asks lowest first) whatever order they arrive in. */
  setOrderBook(gpuType: string, region: string, input: OrderBookInput): OrderBookChange {
    this.#requireGpuType(gpuType);
    this.#requireRegion(region);
    const bids = normaliseLevels("bids", input.bids).sort((a, b) => b.pricePerHour - a.pricePerHour);
    const asks = normaliseLevels("asks", input.asks).sort((a, b) => a.pricePerHour - b.pricePerHour);
    const key = pairKey(gpuType, region);
    const book = this.#orderBooks.get(key);
    if (!book) throw new OriginNotFoundError("gpuType", `no order book for "${gpuType}" in "${region}"`);
    if (levelsEqual(book.bids, bids) && levelsEqual(book.asks, asks)) return { orderBook: book };

    const orderBook = freeze<OrderBook>({
      ...book,
      bids,
      asks,
      version: book.version + 1,
      updatedAt: this.#now().toISOString(),
    });
    this.#orderBooks.set(key, orderBook);
    return { orderBook };
  }

  // ---- internals ---------------------------------------------------------------------------

  #load(data: GeneratedData): void {
    this.#seed = data.seed;
    this.#generatedAt = data.generatedAt;
    this.#regions = Object.freeze(data.regions.map((region) => freeze(region)));
    this.#gpuTypes = Object.freeze(data.gpuTypes.map((type) => freeze(type)));
    for (const map of [
      this.#gpus,
      this.#providers,
      this.#bookings,
      this.#confirmedBookingByGpu,
      this.#prices,
      this.#stats,
      this.#orderBooks,
    ]) {
      map.clear();
    }
    for (const gpu of data.gpus) this.#gpus.set(gpu.gpuId, freeze(gpu));
    for (const provider of data.providers) this.#providers.set(provider.providerId, freeze(provider));
    for (const booking of data.bookings) {
      this.#bookings.set(booking.bookingId, freeze(booking));
      if (booking.status === "confirmed") this.#confirmedBookingByGpu.set(booking.gpuId, booking.bookingId);
    }
    this.#bookingSequence = data.bookings.length;
    for (const price of data.prices) this.#prices.set(pairKey(price.gpuType, price.region), freeze(price));
    for (const book of data.orderBooks)
      this.#orderBooks.set(pairKey(book.gpuType, book.region), freeze(book));
    for (const type of data.gpuTypes) {
      for (const region of data.regions) {
        const figures = this.#computeStats(region.regionId, type.gpuType);
        this.#stats.set(
          pairKey(type.gpuType, region.regionId),
          freeze({ ...figures, version: 1, updatedAt: data.generatedAt }),
        );
      }
    }
  }

  #nextBookingId(): string {
    let id: string;
    do {
      this.#bookingSequence += 1;
      id = `bk-${String(this.#bookingSequence).padStart(6, "0")}`;
    } while (this.#bookings.has(id));
    return id;
  }

  #assertStatusAllowed(gpuId: string, providerId: string, status: GpuStatus): void {
    if (status !== "available" && status !== "busy") return;
    const provider = this.#requireProvider(providerId);
    if (provider.status !== "active") {
      throw new OriginConflictError(
        "status",
        `provider "${providerId}" is ${provider.status}; its GPUs cannot be ${status}`,
      );
    }
    const bookingId = this.#confirmedBookingByGpu.get(gpuId);
    if (status === "available" && bookingId !== undefined) {
      throw new OriginConflictError(
        "status",
        `GPU "${gpuId}" has confirmed booking "${bookingId}"; cancel it first`,
      );
    }
  }

  #putGpu(gpu: Gpu, changes: Partial<Omit<Gpu, "gpuId" | "version" | "updatedAt">>, updatedAt: string): Gpu {
    return this.#insertGpu({ ...gpu, ...changes, version: gpu.version + 1, updatedAt });
  }

  #insertGpu(gpu: Gpu): Gpu {
    const frozen = freeze(gpu);
    this.#gpus.set(gpu.gpuId, frozen);
    return frozen;
  }

  #putProvider(
    provider: Provider,
    changes: Partial<Pick<Provider, "status" | "gpuIds">>,
    updatedAt: string,
  ): Provider {
    const next = freeze<Provider>({ ...provider, ...changes, version: provider.version + 1, updatedAt });
    this.#providers.set(provider.providerId, next);
    return next;
  }

  #computeStats(region: string, gpuType: string): Omit<MarketStats, "version" | "updatedAt"> {
    let totalCount = 0;
    let busyCount = 0;
    const availablePrices: number[] = [];
    for (const gpu of this.#gpus.values()) {
      if (gpu.region !== region || gpu.gpuType !== gpuType) continue;
      totalCount += 1;
      if (gpu.status === "busy") busyCount += 1;
      else if (gpu.status === "available") availablePrices.push(gpu.pricePerHour);
    }
    const availableCount = availablePrices.length;
    const rentable = availableCount + busyCount;
    return {
      region,
      gpuType,
      totalCount,
      availableCount,
      busyCount,
      utilisation: rentable === 0 ? 0 : busyCount / rentable,
      averagePricePerHour: availableCount === 0 ? null : averagePrice(availablePrices),
      minPricePerHour: availableCount === 0 ? null : Math.min(...availablePrices),
    };
  }

  /** Recomputes the stats of every (region, type) the given GPU records belong to; returns those that changed. */
  #refreshStats(touched: readonly Gpu[], updatedAt: string): MarketStats[] {
    const pairs = new Map<string, { region: string; gpuType: string }>();
    for (const gpu of touched)
      pairs.set(pairKey(gpu.gpuType, gpu.region), { region: gpu.region, gpuType: gpu.gpuType });
    const changed: MarketStats[] = [];
    for (const [key, { region, gpuType }] of pairs) {
      const previous = this.#stats.get(key);
      if (!previous) continue;
      const figures = this.#computeStats(region, gpuType);
      const same = (Object.keys(figures) as (keyof typeof figures)[]).every(
        (k) => previous[k] === figures[k],
      );
      if (same) continue;
      const next = freeze<MarketStats>({ ...figures, version: previous.version + 1, updatedAt });
      this.#stats.set(key, next);
      changed.push(next);
    }
    return changed;
  }

  #requireGpu(gpuId: string): Gpu {
    const gpu = this.#gpus.get(gpuId);
    if (!gpu) throw new OriginNotFoundError("gpuId", `no GPU "${gpuId}"`);
    return gpu;
  }

  #requireProvider(providerId: string): Provider {
    const provider = this.#providers.get(providerId);
    if (!provider) throw new OriginNotFoundError("providerId", `no provider "${providerId}"`);
    return provider;
  }

  #requireGpuType(gpuType: string): GpuType {
    const type = this.getGpuType(gpuType);
    if (!type) throw new OriginNotFoundError("gpuType", `unknown GPU type "${gpuType}"`);
    return type;
  }

  #requireRegion(regionId: string): Region {
    const region = this.getRegion(regionId);
    if (!region) throw new OriginNotFoundError("region", `unknown region "${regionId}"`);
    return region;
  }
}

function matchesPair(record: { region: string; gpuType: string }, filter: PairFilter): boolean {
  return (
    (filter.region === undefined || record.region === filter.region) &&
    (filter.gpuType === undefined || record.gpuType === filter.gpuType)
  );
}
