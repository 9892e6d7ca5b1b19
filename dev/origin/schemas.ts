/**
 * Input schemas of the origin's HTTP API: query strings of the public routes and JSON bodies
 * of the admin routes. Field rules are taken from the domain schemas so the origin can never
 * accept a value the rest of the system would reject.
 */
import { z } from "zod";
import {
  bookingSchema,
  GPU_STATUSES,
  gpuSchema,
  identifierSchema,
  orderBookLevelSchema,
  PROVIDER_STATUSES,
  priceSchema,
} from "../../core/domain";

export const MAX_LIST_LIMIT = 500;
export const DEFAULT_LIST_LIMIT = 50;
const MAX_BOOK_LEVELS = 100;

export const gpuListQuerySchema = z.object({
  region: identifierSchema.optional(),
  type: identifierSchema.optional(),
  status: z.enum(GPU_STATUSES).optional(),
  sort: z.enum(["price", "performance"]).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  /** Keyset paging: only GPUs whose id sorts after this one (what the edge's view warm walks). */
  after: identifierSchema.optional(),
});

export const pairQuerySchema = z.object({
  type: identifierSchema.optional(),
  region: identifierSchema.optional(),
});

export const regionQuerySchema = z.object({ region: identifierSchema.optional() });

export const bookingsQuerySchema = z.object({ userId: identifierSchema.optional() });

export const createBookingBodySchema = z.strictObject({
  bookingId: identifierSchema.optional(),
  gpuId: identifierSchema,
  userId: identifierSchema,
  startsAt: bookingSchema.shape.startsAt.optional(),
  endsAt: bookingSchema.shape.endsAt.optional(),
});

export const gpuStatusBodySchema = z.strictObject({ status: z.enum(GPU_STATUSES) });

/**
 * A PUT may carry a whole record as read from GET; gpuId must then match the path, and
 * version/updatedAt are accepted but ignored because the origin owns them.
 */
export const gpuUpsertBodySchema = z.strictObject({
  gpuId: identifierSchema.optional(),
  providerId: gpuSchema.shape.providerId.optional(),
  gpuType: gpuSchema.shape.gpuType.optional(),
  region: gpuSchema.shape.region.optional(),
  status: gpuSchema.shape.status.optional(),
  pricePerHour: gpuSchema.shape.pricePerHour.optional(),
  performanceScore: gpuSchema.shape.performanceScore.optional(),
  memoryGb: gpuSchema.shape.memoryGb.optional(),
  version: gpuSchema.shape.version.optional(),
  updatedAt: gpuSchema.shape.updatedAt.optional(),
});

export const pricingBodySchema = z.strictObject({
  gpuType: priceSchema.shape.gpuType,
  region: priceSchema.shape.region,
  pricePerHour: priceSchema.shape.pricePerHour,
});

export const providerStatusBodySchema = z.strictObject({ status: z.enum(PROVIDER_STATUSES) });

export const orderBookBodySchema = z.strictObject({
  region: identifierSchema,
  bids: z.array(orderBookLevelSchema).max(MAX_BOOK_LEVELS),
  asks: z.array(orderBookLevelSchema).max(MAX_BOOK_LEVELS),
});

export const resetBodySchema = z.strictObject({
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  gpuCount: z.number().int().min(0).max(100_000).optional(),
  providerCount: z.number().int().min(1).max(10_000).optional(),
});

export const faultsBodySchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  /** A status every public GET answers with until cleared with null: simulates an origin outage. */
  failStatus: z.number().int().min(500).max(599).nullable().optional(),
});

/** `bids[0].quantity` style, so an error message points at the exact field. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    return out === "" ? name : `${out}.${name}`;
  }, "");
}

export interface InputIssue {
  path: string;
  message: string;
}

export function describeIssues(error: z.ZodError): InputIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}
