/**
 * The webhook event contract (docs/architecture.md "Event contract"), defined once: the event
 * Lambda validates with these schemas, and tools that send events build them.
 *
 * Every event is `{ id, type, occurredAt, version, data }`. `version` is the booking
 * system's version of the entity the event changes (for booking events, the GPU's),
 * monotonic per entity. Events carry the entity's new state, so the Lambda writes it
 * through without asking the booking system again.
 */
import * as z from "zod";
import {
  bookingSchema,
  gpuSchema,
  marketStatsSchema,
  orderBookSchema,
  priceSchema,
  providerSchema,
} from "./domain";

export const MAX_EVENTS_PER_BATCH = 100;
/** Larger bodies are refused before they are parsed. */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

const eventIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "must be letters, digits, '.', '_', ':' or '-'");

const envelope = {
  id: eventIdSchema,
  occurredAt: z.iso.datetime({ offset: true }),
  version: z.number().int().nonnegative(),
};

/** The entity in `data` must be at the version the envelope names. */
const VERSION_MISMATCH = "must equal the event's version";

const gpuUpserted = z
  .strictObject({ ...envelope, type: z.literal("gpu.upserted"), data: z.strictObject({ gpu: gpuSchema }) })
  .refine((event) => event.data.gpu.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "gpu", "version"],
  });

const gpuStatusChanged = z
  .strictObject({
    ...envelope,
    type: z.literal("gpu.status_changed"),
    data: z.strictObject({ gpu: gpuSchema }),
  })
  .refine((event) => event.data.gpu.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "gpu", "version"],
  });

const bookingData = z
  .strictObject({ booking: bookingSchema, gpu: gpuSchema })
  .refine((data) => data.booking.gpuId === data.gpu.gpuId, {
    message: "must be the booked GPU",
    path: ["gpu", "gpuId"],
  });

const bookingCreated = z
  .strictObject({ ...envelope, type: z.literal("booking.created"), data: bookingData })
  .refine((event) => event.data.gpu.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "gpu", "version"],
  })
  .refine((event) => event.data.gpu.status === "busy", {
    message: "a booked GPU must be 'busy'",
    path: ["data", "gpu", "status"],
  });

const bookingCancelled = z
  .strictObject({ ...envelope, type: z.literal("booking.cancelled"), data: bookingData })
  .refine((event) => event.data.gpu.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "gpu", "version"],
  })
  .refine((event) => event.data.booking.status === "cancelled", {
    message: "must be 'cancelled'",
    path: ["data", "booking", "status"],
  });

const pricingUpdated = z
  .strictObject({
    ...envelope,
    type: z.literal("pricing.updated"),
    data: z.strictObject({
      price: priceSchema,
      /** The GPUs of that type and region at their new price (each at its own version). */
      gpus: z.array(gpuSchema).max(5_000).default([]),
    }),
  })
  .refine((event) => event.data.price.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "price", "version"],
  })
  .refine(
    (event) =>
      event.data.gpus.every(
        (gpu) => gpu.gpuType === event.data.price.gpuType && gpu.region === event.data.price.region,
      ),
    { message: "every GPU must be of the price's type and region", path: ["data", "gpus"] },
  );

const providerStatusChanged = z
  .strictObject({
    ...envelope,
    type: z.literal("provider.status_changed"),
    data: z.strictObject({
      provider: providerSchema,
      /** Its GPUs in their new state (maintenance/offline fan out to every one). */
      gpus: z.array(gpuSchema).max(5_000).default([]),
    }),
  })
  .refine((event) => event.data.provider.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "provider", "version"],
  })
  .refine((event) => event.data.gpus.every((gpu) => gpu.providerId === event.data.provider.providerId), {
    message: "every GPU must belong to the provider",
    path: ["data", "gpus"],
  });

const marketStatsUpdated = z
  .strictObject({
    ...envelope,
    type: z.literal("market.stats_updated"),
    data: z.strictObject({ stats: marketStatsSchema }),
  })
  .refine((event) => event.data.stats.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "stats", "version"],
  });

const orderBookUpdated = z
  .strictObject({
    ...envelope,
    type: z.literal("orderbook.updated"),
    data: z.strictObject({ orderBook: orderBookSchema }),
  })
  .refine((event) => event.data.orderBook.version === event.version, {
    message: VERSION_MISMATCH,
    path: ["data", "orderBook", "version"],
  });

const cacheInvalidate = z.strictObject({
  ...envelope,
  type: z.literal("cache.invalidate"),
  data: z
    .strictObject({
      tags: z
        .array(
          z
            .string()
            .max(1024)
            .regex(/^[^\s,]+$/, "must be one tag: no spaces or commas"),
        )
        .max(1_000)
        .default([]),
      /** Edge paths for CloudFront, e.g. `/v1/gpus*`. */
      paths: z
        .array(z.string().regex(/^\/[^\s]*$/, "must start with '/'"))
        .max(3_000)
        .default([]),
      /** Redis keys below the key prefix to delete, e.g. `gpu:gpu-00001`. */
      keys: z
        .array(z.string().regex(/^[A-Za-z0-9:._-]+$/, "must be a key below the prefix (no patterns)"))
        .max(1_000)
        .default([]),
    })
    .refine((data) => data.tags.length + data.paths.length + data.keys.length > 0, {
      message: "name at least one tag, path or key",
    }),
});

export const EVENT_TYPES = [
  "gpu.upserted",
  "gpu.status_changed",
  "booking.created",
  "booking.cancelled",
  "pricing.updated",
  "provider.status_changed",
  "market.stats_updated",
  "orderbook.updated",
  "cache.invalidate",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const eventSchemas = {
  "gpu.upserted": gpuUpserted,
  "gpu.status_changed": gpuStatusChanged,
  "booking.created": bookingCreated,
  "booking.cancelled": bookingCancelled,
  "pricing.updated": pricingUpdated,
  "provider.status_changed": providerStatusChanged,
  "market.stats_updated": marketStatsUpdated,
  "orderbook.updated": orderBookUpdated,
  "cache.invalidate": cacheInvalidate,
} as const;

export type MarketplaceEvent = z.infer<(typeof eventSchemas)[EventType]>;

/** A body the Lambda refuses: 400 with `path` and `message`; nothing is applied. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    message: string,
    /** Where in the body, e.g. `events.3.data.gpu.status`. */
    readonly path: string,
  ) {
    super(`${path || "body"}: ${message}`);
  }
}

function firstIssue(error: z.ZodError, prefix: readonly (string | number)[]): InvalidEventError {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])].map(String).join(".");
  return new InvalidEventError(issue?.message ?? "invalid", path);
}

function parseOne(value: unknown, prefix: readonly (string | number)[]): MarketplaceEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidEventError("must be an event object", prefix.join("."));
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new InvalidEventError(
      `unknown event type (known: ${EVENT_TYPES.join(", ")})`,
      [...prefix, "type"].join("."),
    );
  }
  const parsed = eventSchemas[type as EventType].safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, prefix);
  return parsed.data;
}

/**
 * A webhook body: one event, or `{ "events": [...] }` with 1 to 100 events. All or
 * nothing: one bad event refuses the whole body. Duplicate ids within one body are refused.
 */
export function parseEventBody(body: unknown): MarketplaceEvent[] {
  if (typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body) {
    const keys = Object.keys(body);
    if (keys.length !== 1) throw new InvalidEventError("a batch has only an 'events' field", "");
    const events = (body as { events: unknown }).events;
    if (!Array.isArray(events)) throw new InvalidEventError("must be an array", "events");
    if (events.length === 0) throw new InvalidEventError("must hold at least one event", "events");
    if (events.length > MAX_EVENTS_PER_BATCH) {
      throw new InvalidEventError(
        `at most ${MAX_EVENTS_PER_BATCH} events per request, got ${events.length}`,
        "events",
      );
    }
    const parsed = events.map((event, index) => parseOne(event, ["events", index]));
    const seen = new Set<string>();
    parsed.forEach((event, index) => {
      if (seen.has(event.id))
        throw new InvalidEventError(`duplicate event id '${event.id}' in one batch`, `events.${index}.id`);
      seen.add(event.id);
    });
    return parsed;
  }
  return [parseOne(body, [])];
}
