/**
 * Deterministic sample data for the marketplace origin.
 *
 * Everything comes from one seeded PRNG and one fixed base time, so the same options give
 * byte-identical data on every machine: tests can assert on exact records and two origins
 * started with the same seed agree with each other.
 */
import type {
  Booking,
  Gpu,
  GpuType,
  OrderBook,
  OrderBookLevel,
  Price,
  Provider,
  Region,
} from "../../core/domain";
import { GPU_TYPE_PROFILES, type GpuTypeProfile, REGION_PROFILES, toGpuType, toRegion } from "./catalog";

export interface GenerateOptions {
  seed?: number;
  gpuCount?: number;
  providerCount?: number;
}

export interface GeneratedData {
  seed: number;
  /** The instant every generated timestamp is derived from (never the wall clock). */
  generatedAt: string;
  regions: Region[];
  gpuTypes: GpuType[];
  providers: Provider[];
  gpus: Gpu[];
  bookings: Booking[];
  prices: Price[];
  orderBooks: OrderBook[];
}

export const DEFAULT_SEED = 42;
export const DEFAULT_GPU_COUNT = 2000;
export const DEFAULT_PROVIDER_COUNT = 50;
export const BASE_TIME = "2026-11-01T00:00:00.000Z";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const USER_COUNT = 250;

const NAME_PREFIXES = [
  "Northwind",
  "Bluefin",
  "Cobalt",
  "Granite",
  "Helios",
  "Juniper",
  "Kestrel",
  "Lumen",
  "Meridian",
  "Nimbus",
  "Orchid",
  "Pinnacle",
  "Quartz",
  "Redwood",
  "Sierra",
  "Tundra",
  "Umber",
  "Vertex",
  "Willow",
  "Zephyr",
];
const NAME_SUFFIXES = ["Compute", "Cloud", "GPU Works", "Labs", "Systems"];

/** mulberry32: tiny, fast and good enough for test data; the same seed gives the same stream everywhere. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Rng = () => number;

function randInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function uniform(rng: Rng, min: number, max: number): number {
  return min + rng() * (max - min);
}

function weightedIndex(rng: Rng, cumulative: readonly number[]): number {
  const total = cumulative[cumulative.length - 1] ?? 0;
  const target = rng() * total;
  const index = cumulative.findIndex((bound) => target < bound);
  return index === -1 ? cumulative.length - 1 : index;
}

function cumulativeOf(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((weight) => {
    sum += weight;
    return sum;
  });
}

/** Money is kept in whole cents so JSON bodies (and therefore ETags) never carry float noise. */
export function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

function assertCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

export function basePriceFor(type: GpuTypeProfile, regionFactor: number): number {
  return roundCents(type.basePricePerHour * regionFactor);
}

function providerName(index: number): string {
  const prefix = NAME_PREFIXES[index % NAME_PREFIXES.length];
  const suffix = NAME_SUFFIXES[Math.floor(index / NAME_PREFIXES.length) % NAME_SUFFIXES.length];
  const round = Math.floor(index / (NAME_PREFIXES.length * NAME_SUFFIXES.length));
  return round === 0 ? `${prefix} ${suffix}` : `${prefix} ${suffix} ${round + 1}`;
}

/** Levels walk away from the reference price in whole-cent steps, so they stay strictly ordered. */
function orderBookSide(rng: Rng, reference: number, direction: 1 | -1): OrderBookLevel[] {
  const levels: OrderBookLevel[] = [];
  const count = randInt(rng, 3, 6);
  let cents = Math.round(reference * 100);
  for (let i = 0; i < count; i++) {
    const stepCents = Math.max(1, Math.round(reference * 100 * uniform(rng, 0.01, 0.04)));
    cents += direction * stepCents;
    if (cents < 1) break;
    levels.push({ pricePerHour: cents / 100, quantity: randInt(rng, 1, 16) });
  }
  return levels;
}

export function generateMarketplace(options: GenerateOptions = {}): GeneratedData {
  const seed = options.seed ?? DEFAULT_SEED;
  const gpuCount = options.gpuCount ?? DEFAULT_GPU_COUNT;
  const providerCount = options.providerCount ?? DEFAULT_PROVIDER_COUNT;
  assertCount("seed", seed, 0);
  assertCount("gpuCount", gpuCount, 0);
  assertCount("providerCount", providerCount, 1);

  const rng = mulberry32(seed);
  const baseMs = Date.parse(BASE_TIME);
  const generatedAt = isoAt(baseMs);

  const prices: Price[] = [];
  for (const type of GPU_TYPE_PROFILES) {
    for (const region of REGION_PROFILES) {
      prices.push({
        gpuType: type.gpuType,
        region: region.regionId,
        pricePerHour: basePriceFor(type, region.priceFactor),
        version: 1,
        updatedAt: generatedAt,
      });
    }
  }
  const priceOf = new Map(prices.map((price) => [`${price.gpuType}|${price.region}`, price.pricePerHour]));

  // A provider lives in one region; spreading them round-robin keeps every region populated.
  const providers: Provider[] = [];
  for (let i = 0; i < providerCount; i++) {
    const region = REGION_PROFILES[i % REGION_PROFILES.length] as (typeof REGION_PROFILES)[number];
    providers.push({
      providerId: `prov-${pad(i + 1, 3)}`,
      name: providerName(i),
      status: "active",
      region: region.regionId,
      gpuIds: [],
      version: 1,
      updatedAt: generatedAt,
    });
  }
  const maintenanceCount = providerCount >= 20 ? 2 : providerCount >= 4 ? 1 : 0;
  while (providers.filter((provider) => provider.status === "maintenance").length < maintenanceCount) {
    const provider = providers[randInt(rng, 0, providerCount - 1)] as Provider;
    provider.status = "maintenance";
  }

  // Fleet sizes vary per provider, but the first pass gives every provider at least one GPU.
  const providerWeights = cumulativeOf(providers.map(() => uniform(rng, 0.3, 1.7)));
  const typeWeights = cumulativeOf(GPU_TYPE_PROFILES.map((type) => type.fleetWeight));

  const gpus: Gpu[] = [];
  const bookings: Booking[] = [];
  for (let i = 0; i < gpuCount; i++) {
    const provider = providers[i < providerCount ? i : weightedIndex(rng, providerWeights)] as Provider;
    const type = GPU_TYPE_PROFILES[weightedIndex(rng, typeWeights)] as GpuTypeProfile;
    const basePrice = priceOf.get(`${type.gpuType}|${provider.region}`) ?? type.basePricePerHour;
    const gpuId = `gpu-${pad(i + 1, 5)}`;
    const roll = rng();
    let status: Gpu["status"];
    if (provider.status === "maintenance") status = "maintenance";
    else if (roll < 0.3) status = "busy";
    else if (roll < 0.33) status = "maintenance";
    else if (roll < 0.35) status = "offline";
    else status = "available";

    const gpu: Gpu = {
      gpuId,
      providerId: provider.providerId,
      gpuType: type.gpuType,
      region: provider.region,
      status,
      pricePerHour: roundCents(basePrice * uniform(rng, 0.92, 1.08)),
      performanceScore: Math.round(type.basePerformance * uniform(rng, 0.95, 1.05) * 10) / 10,
      memoryGb: type.memoryGb,
      version: 1,
      updatedAt: generatedAt,
    };
    gpus.push(gpu);
    provider.gpuIds.push(gpuId);

    if (status === "busy") {
      const startsMs = baseMs - randInt(rng, 0, 36) * HOUR_MS - randInt(rng, 0, 59) * MINUTE_MS;
      const endsMs = baseMs + randInt(rng, 1, 72) * HOUR_MS;
      bookings.push({
        bookingId: `bk-${pad(bookings.length + 1, 6)}`,
        gpuId,
        userId: `user-${pad(randInt(rng, 1, USER_COUNT), 4)}`,
        startsAt: isoAt(startsMs),
        endsAt: isoAt(endsMs),
        pricePerHour: gpu.pricePerHour,
        status: "confirmed",
      });
    }
  }

  const orderBooks: OrderBook[] = prices.map((price) => ({
    gpuType: price.gpuType,
    region: price.region,
    bids: orderBookSide(rng, price.pricePerHour, -1),
    asks: orderBookSide(rng, price.pricePerHour, 1),
    version: 1,
    updatedAt: generatedAt,
  }));

  return {
    seed,
    generatedAt,
    regions: REGION_PROFILES.map(toRegion),
    gpuTypes: GPU_TYPE_PROFILES.map(toGpuType),
    providers,
    gpus,
    bookings,
    prices,
    orderBooks,
  };
}
