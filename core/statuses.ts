/**
 * The status values of the domain's records (core/domain.ts builds its enums from them).
 * Without zod, so the Worker can check a `status` filter without bundling zod.
 */
export const GPU_STATUSES = ["available", "busy", "maintenance", "offline"] as const;
export const PROVIDER_STATUSES = ["active", "maintenance", "offline"] as const;
export const BOOKING_STATUSES = ["confirmed", "cancelled"] as const;
