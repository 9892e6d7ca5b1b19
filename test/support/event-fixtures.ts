/**
 * Fixtures for the event tests: events built from the sample origin's own mutations
 * (so every event carries exactly the records the booking system would send), Redis
 * snapshots read back through the Upstash client as the Worker reads them, and a
 * subscriber on the events channel through a bridge's subscribe endpoint (so it hears
 * either backend).
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "@upstash/redis";
import type { MarketStats } from "../../core/domain";
import { type EventType, type MarketplaceEvent, parseEventBody } from "../../core/events";
import { MarketplaceStore } from "../../dev/origin/store";
import { readHash } from "./redis";
import { within } from "./within";

export {
  BACKENDS,
  type BackendSides,
  LambdaSide,
  readHash,
  type TestBackend,
  uniquePrefix,
  upstashClient,
  useBackend,
} from "./redis";

/** An event as the booking system sends it (plain JSON, before validation). */
export interface RawEvent {
  id: string;
  type: EventType;
  occurredAt: string;
  version: number;
  data: Record<string, unknown>;
}

const CLOCK_START_MS = Date.parse("2026-11-05T12:00:00.000Z");
let eventSequence = 0;

/** An event id no other test uses. */
export function nextEventId(label = "evt"): string {
  eventSequence += 1;
  return `${label}-${eventSequence}`;
}

/** A deep copy a test may break without touching the original. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Parses one raw event with the Lambda's own parser. */
export function parsed(raw: RawEvent): MarketplaceEvent {
  const [event] = parseEventBody(raw);
  if (!event) throw new Error("parseEventBody returned nothing");
  return event;
}

/**
 * A small generated marketplace (seed 42: 60 GPUs, 6 providers) and builders that
 * mutate it and wrap the changed records in an event, as the booking system does.
 */
export class EventFactory {
  readonly store: MarketplaceStore;
  #ms = CLOCK_START_MS;

  constructor() {
    this.store = new MarketplaceStore({
      gpuCount: 60,
      providerCount: 6,
      now: () => {
        this.#ms += 1_000;
        return new Date(this.#ms);
      },
    });
  }

  #event(type: EventType, version: number, occurredAt: string, data: Record<string, unknown>): RawEvent {
    return { id: nextEventId(type.replace(".", "-")), type, occurredAt, version, data };
  }

  /** A GPU that can be booked: available, of an active provider. */
  availableGpuId(skip = 0): string {
    const active = new Set(
      this.store
        .listProviders()
        .filter((provider) => provider.status === "active")
        .map((provider) => provider.providerId),
    );
    const gpu = this.store
      .listGpus({ status: "available" })
      .filter((candidate) => active.has(candidate.providerId))[skip];
    if (!gpu) throw new Error("no available GPU left");
    return gpu.gpuId;
  }

  gpuStatusChanged(gpuId: string = this.availableGpuId(), status: "maintenance" | "offline" = "offline") {
    const change = this.store.setGpuStatus(gpuId, status);
    return {
      change,
      raw: this.#event("gpu.status_changed", change.gpu.version, change.gpu.updatedAt, { gpu: change.gpu }),
    };
  }

  gpuUpserted(gpuId = `gpu-new-${randomUUID().slice(0, 8)}`) {
    const provider = this.store.listProviders().find((candidate) => candidate.status === "active");
    const gpuType = this.store.listGpuTypes()[0]?.gpuType;
    if (!provider || !gpuType) throw new Error("no active provider or GPU type");
    const change = this.store.upsertGpu({ gpuId, providerId: provider.providerId, gpuType });
    return {
      change,
      raw: this.#event("gpu.upserted", change.gpu.version, change.gpu.updatedAt, { gpu: change.gpu }),
    };
  }

  bookingCreated(gpuId: string = this.availableGpuId()) {
    const change = this.store.createBooking({ gpuId, userId: "user-test" });
    return {
      change,
      raw: this.#event("booking.created", change.gpu.version, change.gpu.updatedAt, {
        booking: change.booking,
        gpu: change.gpu,
      }),
    };
  }

  bookingCancelled(bookingId: string) {
    const change = this.store.cancelBooking(bookingId);
    return {
      change,
      raw: this.#event("booking.cancelled", change.gpu.version, change.gpu.updatedAt, {
        booking: change.booking,
        gpu: change.gpu,
      }),
    };
  }

  /** The first list price, raised by `delta`: every GPU of that pair is repriced. */
  pricingUpdated(delta = 0.25, pair: { gpuType: string; region: string } | undefined = undefined) {
    // By default the pair with the most GPUs, so the change fans out (lists are in key order).
    const fleet = (p: { gpuType: string; region: string }) =>
      this.store.listGpus({ gpuType: p.gpuType, region: p.region }).length;
    const price = pair
      ? this.store.getPrice(pair.gpuType, pair.region)
      : this.store.listPrices().sort((a, b) => fleet(b) - fleet(a))[0];
    if (!price) throw new Error("no price");
    const change = this.store.setPrice(
      price.gpuType,
      price.region,
      Math.round((price.pricePerHour + delta) * 100) / 100,
    );
    return {
      change,
      raw: this.#event("pricing.updated", change.price.version, change.price.updatedAt, {
        price: change.price,
        gpus: change.gpus,
      }),
    };
  }

  /** The provider with the most GPUs that are not yet in `status`, so the change fans out widely. */
  providerStatusChanged(status: "maintenance" | "offline" = "maintenance", providerId?: string) {
    const provider =
      (providerId ? this.store.getProvider(providerId) : undefined) ??
      [...this.store.listProviders()]
        .filter((candidate) => candidate.status === "active")
        .sort((a, b) => b.gpuIds.length - a.gpuIds.length)[0];
    if (!provider) throw new Error("no active provider");
    const change = this.store.setProviderStatus(provider.providerId, status);
    return {
      change,
      raw: this.#event("provider.status_changed", change.provider.version, change.provider.updatedAt, {
        provider: change.provider,
        gpus: change.gpus,
      }),
    };
  }

  marketStatsUpdated(stats?: MarketStats) {
    const changed = stats ?? this.bookingCreated().change.marketStats[0];
    if (!changed) throw new Error("the booking changed no stats");
    return {
      stats: changed,
      raw: this.#event("market.stats_updated", changed.version, changed.updatedAt, { stats: changed }),
    };
  }

  /** Moves every level of the pair's order book by `delta`. */
  orderBookUpdated(pair: { gpuType: string; region: string } | undefined = undefined, delta = 0.01) {
    const book = pair ? this.store.getOrderBook(pair.gpuType, pair.region) : this.store.listOrderBooks()[0];
    if (!book) throw new Error("no order book");
    const shift = (levels: typeof book.bids) =>
      levels.map((level) => ({
        pricePerHour: Math.round((level.pricePerHour + delta) * 100) / 100,
        quantity: level.quantity,
      }));
    const change = this.store.setOrderBook(book.gpuType, book.region, {
      bids: shift(book.bids),
      asks: shift(book.asks),
    });
    return {
      change,
      raw: this.#event("orderbook.updated", change.orderBook.version, change.orderBook.updatedAt, {
        orderBook: change.orderBook,
      }),
    };
  }

  cacheInvalidate(data: { tags?: string[]; paths?: string[]; keys?: string[] }) {
    return { raw: this.#event("cache.invalidate", 0, new Date(this.#ms).toISOString(), data) };
  }

  /** One event of every type, each from a mutation of this store. */
  oneOfEach(): Record<EventType, RawEvent> {
    const booked = this.bookingCreated();
    const stats = booked.change.marketStats[0];
    return {
      "gpu.upserted": this.gpuUpserted().raw,
      "gpu.status_changed": this.gpuStatusChanged().raw,
      "booking.created": booked.raw,
      "booking.cancelled": this.bookingCancelled(booked.change.booking.bookingId).raw,
      "pricing.updated": this.pricingUpdated().raw,
      "provider.status_changed": this.providerStatusChanged().raw,
      "market.stats_updated": this.marketStatsUpdated(stats).raw,
      "orderbook.updated": this.orderBookUpdated().raw,
      "cache.invalidate": this.cacheInvalidate({
        tags: ["gpu:gpu-00001", "gpus:*:*"],
        paths: ["/v1/gpus*"],
        keys: ["gpu:gpu-00001"],
      }).raw,
    };
  }
}

/** What one key holds, as comparable text. */
async function describeKey(redis: Redis, key: string): Promise<string | undefined> {
  const type = String(await redis.type(key));
  switch (type) {
    case "none":
      return undefined;
    case "hash":
      return `hash ${JSON.stringify(Object.entries((await readHash(redis, key)) ?? {}).sort())}`;
    case "string":
      return `string ${String(await redis.get(key))}`;
    case "set":
      return `set ${JSON.stringify(((await redis.smembers(key)) as string[]).map(String).sort())}`;
    case "stream":
      return `stream ${String(await redis.xlen(key))}`;
    default:
      return type;
  }
}

/** Every key under `root` and what it holds (SCAN, then one read per key). */
export async function snapshot(redis: Redis, root: string): Promise<Map<string, string>> {
  const names = new Set<string>();
  let cursor = "0";
  do {
    const [next, batch] = (await redis.scan(cursor, { match: `${root}*`, count: 1_000 })) as unknown as [
      string | number,
      string[],
    ];
    for (const name of batch) names.add(String(name));
    cursor = String(next);
  } while (cursor !== "0");
  const entries = await Promise.all(
    [...names].map(async (name) => [name, await describeKey(redis, name)] as const),
  );
  return new Map(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export interface SnapshotDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

export function diff(before: Map<string, string>, after: Map<string, string>): SnapshotDiff {
  return {
    added: [...after.keys()].filter((key) => !before.has(key)).sort(),
    removed: [...before.keys()].filter((key) => !after.has(key)).sort(),
    changed: [...after.keys()].filter((key) => before.has(key) && before.get(key) !== after.get(key)).sort(),
  };
}

/** How long a subscription or a settle marker may take: a lost message fails the test, not the run. */
const LISTENER_TIMEOUT_MS = 5_000;

type Subscriber = ReturnType<Redis["subscribe"]>;

/**
 * A subscriber on one channel, through a bridge's `/subscribe` endpoint with the Upstash
 * client (messages as raw text: the client is built without automatic deserialization).
 * `settle()` publishes a marker of its own and waits for it: messages on one channel
 * arrive in order, so everything published before is in `messages` by then.
 */
export class ChannelListener {
  readonly messages: string[] = [];
  readonly #failures: unknown[] = [];
  #sentinels = new Map<string, () => void>();

  private constructor(
    readonly channel: string,
    private readonly redis: Redis,
    private readonly subscriber: Subscriber,
  ) {
    subscriber.on("message", ({ channel: from, message }) => {
      if (from !== channel) return;
      const text = String(message);
      const done = this.#sentinels.get(text);
      if (done) done();
      else this.messages.push(text);
    });
    subscriber.on("error", (error) => this.#failures.push(error));
  }

  /** Subscribed once the bridge has answered the subscription (it subscribes before it answers). */
  static async open(redis: Redis, channel: string): Promise<ChannelListener> {
    const subscriber = redis.subscribe<string>([channel]);
    const subscribed = new Promise<void>((resolve, reject) => {
      subscriber.on("subscribe", () => resolve());
      subscriber.on("error", reject);
    });
    const listener = new ChannelListener(channel, redis, subscriber);
    try {
      await within(subscribed, LISTENER_TIMEOUT_MS, `subscribing to ${channel}`);
    } catch (error) {
      await listener.close();
      throw error;
    }
    return listener;
  }

  /** Every message published on the channel before this call. */
  async settle(): Promise<string[]> {
    const sentinel = `sentinel:${randomUUID()}`;
    const arrived = new Promise<void>((resolve) => this.#sentinels.set(sentinel, resolve));
    try {
      await this.redis.publish(this.channel, sentinel);
      await within(arrived, LISTENER_TIMEOUT_MS, `the marker on ${this.channel}`);
    } finally {
      this.#sentinels.delete(sentinel);
    }
    if (this.#failures.length > 0) throw new Error(`the subscription failed: ${String(this.#failures[0])}`);
    return [...this.messages];
  }

  async close(): Promise<void> {
    await this.subscriber.unsubscribe();
  }
}
