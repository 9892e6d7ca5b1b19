/**
 * What a change must satisfy before it touches anything: well-formed figures
 * (OriginValidationError, a 400) and a state that allows it (OriginConflictError, a 409).
 */
import type { OrderBookLevel } from "../../../core/domain";
import { OriginConflictError, OriginValidationError } from "../errors";
import { requireProvider } from "./lookups";
import type { MarketplaceState } from "./state";
import type { GpuStatus } from "./types";

export function assertMoney(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new OriginValidationError(field, `must be a finite number >= 0, got ${value}`);
  }
}

/** Milliseconds since the epoch. */
export function assertTimestamp(field: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new OriginValidationError(field, `not a timestamp: "${value}"`);
  return ms;
}

/** Copies of the levels with only their two fields, each checked. */
export function normaliseLevels(field: string, levels: readonly OrderBookLevel[]): OrderBookLevel[] {
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

/** The figures a GPU record carries, as upsertGpu is about to store them. */
export function assertGpuFigures(fields: {
  pricePerHour: number;
  performanceScore: number;
  memoryGb: number;
}): void {
  assertMoney("pricePerHour", fields.pricePerHour);
  if (!Number.isFinite(fields.performanceScore) || fields.performanceScore < 0) {
    throw new OriginValidationError(
      "performanceScore",
      `must be a finite number >= 0, got ${fields.performanceScore}`,
    );
  }
  if (!Number.isInteger(fields.memoryGb) || fields.memoryGb < 1) {
    throw new OriginValidationError("memoryGb", `must be a positive integer, got ${fields.memoryGb}`);
  }
}

/** A GPU is rentable (available or busy) only under an active provider, and not available while booked. */
export function assertStatusAllowed(
  state: MarketplaceState,
  gpuId: string,
  providerId: string,
  status: GpuStatus,
): void {
  if (status !== "available" && status !== "busy") return;
  const provider = requireProvider(state, providerId);
  if (provider.status !== "active") {
    throw new OriginConflictError(
      "status",
      `provider "${providerId}" is ${provider.status}; its GPUs cannot be ${status}`,
    );
  }
  const bookingId = state.confirmedBookingByGpu.get(gpuId);
  if (status === "available" && bookingId !== undefined) {
    throw new OriginConflictError(
      "status",
      `GPU "${gpuId}" has confirmed booking "${bookingId}"; cancel it first`,
    );
  }
}
