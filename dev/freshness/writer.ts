/**
 * The writer: what the booking system does to a few target GPUs at a steady interval.
 * Each step changes the sample origin (dev/local/marketplace-events.ts originAdmin), sends the
 * matching signed webhook, and once it is answered 202 records every version it carried in
 * the timeline. Steps run one at a time, so versions of one entity are acknowledged in order.
 */
import type { Gpu, Price } from "../../core/domain";
import { tags } from "../../core/tags";
import { deliverEvents, originAdmin, type WebhookEvent } from "../local/marketplace-events";
import type { AckTimeline, ShownVersion } from "./timeline";

export interface PricePair {
  readonly gpuType: string;
  readonly region: string;
  /** The list price at the start; price steps alternate between it and one cent more. */
  readonly pricePerHour: number;
}

export type WriterStep =
  | { readonly kind: "book"; readonly gpuId: string }
  | { readonly kind: "cancel"; readonly gpuId: string }
  | { readonly kind: "price"; readonly pair: PricePair; readonly raised: boolean };

/**
 * One cycle: book every target, change each pair's price, cancel every booking, change each
 * price back. Bookings and cancellations alternate per GPU, so every GPU is always bookable or
 * cancellable when its turn comes.
 */
export function writerCycle(gpuIds: readonly string[], pairs: readonly PricePair[]): WriterStep[] {
  return [
    ...gpuIds.map((gpuId) => ({ kind: "book", gpuId }) as const),
    ...pairs.map((pair) => ({ kind: "price", pair, raised: true }) as const),
    ...gpuIds.map((gpuId) => ({ kind: "cancel", gpuId }) as const),
    ...pairs.map((pair) => ({ kind: "price", pair, raised: false }) as const),
  ];
}

/** The versions a delivered event carries, keyed as the readers' answers show them (read-targets.ts). */
export function versionsCarried(event: WebhookEvent): ShownVersion[] {
  const data = event.data as { gpu?: Gpu; gpus?: Gpu[]; price?: Price };
  const gpus = [...(data.gpu ? [data.gpu] : []), ...(data.gpus ?? [])];
  return [
    ...gpus.map((gpu) => ({ key: tags.gpu(gpu.gpuId), version: gpu.version })),
    ...(data.price
      ? [{ key: tags.price(data.price.gpuType, data.price.region), version: data.price.version }]
      : []),
  ];
}

export interface WriterDelivery {
  /** The step's own event type (the market-stats events that follow it are not read). */
  readonly type: string;
  /** The entity the step changed: `gpu:<id>` or `price:<type>:<region>`. */
  readonly key: string;
  readonly version: number;
  readonly sentAt: number;
  readonly ackedAt: number;
  /** Events in the delivery, the market-stats ones included. */
  readonly events: number;
}

export class WriterError extends Error {
  override readonly name = "WriterError";
}

export interface WriterOptions {
  readonly originUrl: string;
  readonly eventsUrl: string;
  readonly webhookSecret: string;
  readonly gpuIds: readonly string[];
  readonly pairs: readonly PricePair[];
  /** A step starts this long after the previous one started (or at once, when that one took longer). */
  readonly intervalMs: number;
  /** No step starts once the clock passes this. */
  readonly until: number;
  readonly maxDeliveries: number;
  readonly timeline: AckTimeline;
  readonly now: () => number;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cents = (value: number) => Math.round(value * 100) / 100;

export async function runWriter(options: WriterOptions): Promise<WriterDelivery[]> {
  const admin = originAdmin(options.originUrl);
  const cycle = writerCycle(options.gpuIds, options.pairs);
  if (cycle.length === 0) throw new RangeError("the writer needs at least one GPU or price pair");
  const bookings = new Map<string, string>();
  const deliveries: WriterDelivery[] = [];

  const eventsOf = async (step: WriterStep): Promise<WebhookEvent[]> => {
    if (step.kind === "book") {
      const { booking, events } = await admin.bookGpu(step.gpuId, "user-freshness");
      bookings.set(step.gpuId, booking.bookingId);
      return events;
    }
    if (step.kind === "cancel") {
      const bookingId = bookings.get(step.gpuId);
      if (!bookingId) throw new WriterError(`no booking of ${step.gpuId} to cancel`);
      bookings.delete(step.gpuId);
      return admin.cancelBooking(bookingId);
    }
    const { pair } = step;
    return admin.setPrice(pair.gpuType, pair.region, cents(pair.pricePerHour + (step.raised ? 0.01 : 0)));
  };

  let nextStart = options.now();
  for (let index = 0; index < options.maxDeliveries; index++) {
    const wait = nextStart - options.now();
    if (wait > 0) await sleep(wait);
    if (options.signal?.aborted || options.now() >= options.until) break;
    nextStart = Math.max(nextStart + options.intervalMs, options.now());
    const step = cycle[index % cycle.length] as WriterStep;
    const events = await eventsOf(step);
    const [primary] = events;
    if (!primary) throw new WriterError(`${step.kind}: the origin change produced no event`);
    const sentAt = options.now();
    const answer = await deliverEvents(options.eventsUrl, options.webhookSecret, events);
    const ackedAt = options.now();
    if (answer.status !== 202)
      throw new WriterError(`the event app answered ${answer.status} to ${primary.type}: ${answer.body}`);
    const statuses = new Map(
      (JSON.parse(answer.body) as { results: Array<{ id: string; status: string }> }).results.map(
        (result) => [result.id, result.status],
      ),
    );
    if (statuses.get(primary.id) !== "applied")
      throw new WriterError(`${primary.type} ${primary.id} was ${statuses.get(primary.id)}, not applied`);
    for (const event of events) {
      if (statuses.get(event.id) !== "applied") continue;
      for (const { key, version } of versionsCarried(event)) options.timeline.record(key, version, ackedAt);
    }
    const changedKey =
      step.kind === "price" ? tags.price(step.pair.gpuType, step.pair.region) : tags.gpu(step.gpuId);
    const changed = versionsCarried(primary).find((item) => item.key === changedKey);
    if (!changed) throw new WriterError(`${primary.type}: the event names no version of what it changed`);
    deliveries.push({ type: primary.type, ...changed, sentAt, ackedAt, events: events.length });
  }
  return deliveries;
}
