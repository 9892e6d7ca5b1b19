/**
 * The marketplace's domain records, as every part of the system exchanges them
 * (origin API bodies, events, Redis values). Defined once here; JSON field names
 * are camelCase everywhere (docs/architecture.md "Domain essentials").
 *
 * Runtime-neutral: imported by the Worker (workerd), the Lambdas and the Node tools.
 */
import * as z from "zod";
import { IDENTIFIER_MAX_LENGTH, IDENTIFIER_MESSAGES, IDENTIFIER_PATTERN } from "./identifiers";
import { BOOKING_STATUSES, GPU_STATUSES, PROVIDER_STATUSES } from "./statuses";

export { BOOKING_STATUSES, GPU_STATUSES, PROVIDER_STATUSES };

/** The identifier rule of core/identifiers.ts (a safe alphabet for URL paths and Redis keys) as a schema. */
export const identifierSchema = z
  .string()
  .min(1, IDENTIFIER_MESSAGES.empty)
  .max(IDENTIFIER_MAX_LENGTH, IDENTIFIER_MESSAGES.tooLong)
  .regex(IDENTIFIER_PATTERN, IDENTIFIER_MESSAGES.alphabet);

const isoTimestampSchema = z.iso.datetime({ offset: true });
const moneySchema = z.number().finite().nonnegative();
/** Monotonic per entity, set by the booking system; decides which write wins. */
const versionSchema = z.number().int().nonnegative();
/** What every entity the booking system changes carries last: its version and when it was set. */
const versioned = { version: versionSchema, updatedAt: isoTimestampSchema } as const;

export const gpuSchema = z.object({
  gpuId: identifierSchema,
  providerId: identifierSchema,
  gpuType: identifierSchema,
  region: identifierSchema,
  status: z.enum(GPU_STATUSES),
  pricePerHour: moneySchema,
  performanceScore: z.number().finite().nonnegative(),
  memoryGb: z.number().int().positive(),
  ...versioned,
});
export type Gpu = z.infer<typeof gpuSchema>;

export const priceSchema = z.object({
  gpuType: identifierSchema,
  region: identifierSchema,
  pricePerHour: moneySchema,
  ...versioned,
});
export type Price = z.infer<typeof priceSchema>;

export const providerSchema = z.object({
  providerId: identifierSchema,
  name: z.string().min(1).max(200),
  status: z.enum(PROVIDER_STATUSES),
  region: identifierSchema,
  gpuIds: z.array(identifierSchema),
  ...versioned,
});
export type Provider = z.infer<typeof providerSchema>;

export const bookingSchema = z.object({
  bookingId: identifierSchema,
  gpuId: identifierSchema,
  userId: identifierSchema,
  startsAt: isoTimestampSchema,
  endsAt: isoTimestampSchema,
  pricePerHour: moneySchema,
  status: z.enum(BOOKING_STATUSES),
});
export type Booking = z.infer<typeof bookingSchema>;

export const marketStatsSchema = z.object({
  region: identifierSchema,
  gpuType: identifierSchema,
  totalCount: z.number().int().nonnegative(),
  availableCount: z.number().int().nonnegative(),
  busyCount: z.number().int().nonnegative(),
  /** busy / (available + busy); 0 when nothing is rentable. */
  utilisation: z.number().min(0).max(1),
  /** Over available GPUs; null when none is available. */
  averagePricePerHour: moneySchema.nullable(),
  minPricePerHour: moneySchema.nullable(),
  ...versioned,
});
export type MarketStats = z.infer<typeof marketStatsSchema>;

export const orderBookLevelSchema = z.object({
  pricePerHour: moneySchema,
  quantity: z.number().int().positive(),
});
export type OrderBookLevel = z.infer<typeof orderBookLevelSchema>;

export const orderBookSchema = z.object({
  gpuType: identifierSchema,
  region: identifierSchema,
  /** Highest first. */
  bids: z.array(orderBookLevelSchema),
  /** Lowest first. */
  asks: z.array(orderBookLevelSchema),
  ...versioned,
});
export type OrderBook = z.infer<typeof orderBookSchema>;

export const regionSchema = z.object({
  regionId: identifierSchema,
  name: z.string().min(1),
  location: z.string().min(1),
});
export type Region = z.infer<typeof regionSchema>;

export const gpuTypeSchema = z.object({
  gpuType: identifierSchema,
  vendor: z.string().min(1),
  memoryGb: z.number().int().positive(),
  architecture: z.string().min(1),
});
export type GpuType = z.infer<typeof gpuTypeSchema>;
