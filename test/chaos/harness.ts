/**
 * One Worker isolate's engine under chaos, on virtual time (test/support/chaos/): the real
 * TieredCache with the Worker's default settings (workers/config.ts), reading Redis through
 * the real Upstash client and the real REST bridge over a ChaosRedis, and the sample origin's
 * app (in process) behind a ChaosOrigin; the event Lambda's real applier writes through the same
 * bridge. A sender delivers each marketplace change as the booking system does: retried until
 * acknowledged. Every read is judged against what had been acknowledged when it was sent.
 */
import { createRedisL2Store } from "../../core/cache/l2-store";
import {
  type CacheAnswer,
  type CacheLookup,
  TieredCache,
  type WaitUntil,
} from "../../core/cache/tiered-cache";
import { createKeyspace, type Keyspace } from "../../core/keys";
import { createOriginApp } from "../../dev/origin/app";
import { createEventApplier, type EventApplier } from "../../lambdas/events/apply";
import { parseWorkerConfig, type WorkerConfig } from "../../workers/config";
import { engineSettings } from "../../workers/engine-settings";
import { routes } from "../../workers/routes";
import { ChaosOrigin } from "../support/chaos/chaos-origin";
import { type ChaosBridge, startChaosBridge } from "../support/chaos/chaos-redis";
import { VirtualTime } from "../support/chaos/virtual-time";
import { SHORT_FRESH_WINDOWS } from "../support/constants";
import { EventFactory, parsed, type RawEvent } from "../support/event-fixtures";
import { uniquePrefix } from "../support/redis";

/** The Worker as deployed by default: its own configuration reader, with nothing set but where things are. */
export const WORKER_DEFAULTS: WorkerConfig = parseWorkerConfig({
  UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1",
  UPSTASH_REDIS_REST_TOKEN: "chaos",
  ORIGIN_URL: "http://127.0.0.1:1",
  // The scenarios watch listings fall back to their copies while the origin fails: plain
  // aggregates on the short fresh windows, not views in Redis that need no origin at all.
  LISTING_VIEWS: "off",
  CACHE_POLICIES: JSON.stringify(SHORT_FRESH_WINDOWS),
});

/** The longest a read may take: the sync's wait, then a load (two Redis reads and the origin, each bounded). */
export const LATENCY_BOUND_MS =
  WORKER_DEFAULTS.l2HardTimeoutMs + 2 * WORKER_DEFAULTS.l2HardTimeoutMs + WORKER_DEFAULTS.originTimeoutMs;

/**
 * The freshness promise (docs/architecture.md "Freshness protocol"): the sync interval plus one
 * Redis round trip, which the hard timeout bounds.
 */
export const STALENESS_BOUND_MS = WORKER_DEFAULTS.syncIntervalMs + WORKER_DEFAULTS.l2HardTimeoutMs;

/** How long the sender waits for an answer before it tries the delivery again, and between tries. */
const DELIVERY_TIMEOUT_MS = 10_000;
const DELIVERY_RETRY_MS = 2_000;

export interface ReadRecord {
  /** The GPU read, or `listing:<region>` for a region's listing. */
  readonly gpuId: string;
  readonly dataClass: CacheLookup["dataClass"];
  /** When it was sent (virtual ms). */
  readonly at: number;
  readonly ms: number;
  /** 200, or 503 when the engine had nothing to answer with (the Worker's answer then). */
  readonly status: number;
  readonly source: CacheAnswer["source"] | undefined;
  /** Why a STALE answer was stale: "error" when the tier below failed. */
  readonly staleReason: CacheAnswer["staleReason"];
  readonly version: number | undefined;
}

export interface Acknowledgement {
  readonly gpuId: string;
  readonly version: number;
  readonly eventId: string;
  /** When the event app's Redis step answered (virtual ms). */
  readonly at: number;
}

export interface ChaosWorld {
  readonly time: VirtualTime;
  readonly bridge: ChaosBridge;
  readonly origin: ChaosOrigin;
  readonly keys: Keyspace;
  readonly cache: TieredCache;
  readonly factory: EventFactory;
  readonly gpuIds: readonly string[];
  readonly reads: ReadRecord[];
  readonly acknowledged: Acknowledgement[];
  /** Engine log lines (its injected logger). */
  readonly logged: string[];
  lookup(gpuId: string): CacheLookup;
  /** Reads one GPU through the engine, to its end on virtual time, and records it. */
  read(gpuId: string): Promise<ReadRecord>;
  /** Reads one region's GPU listing (an aggregate: events drop it from Redis, so it refills from the origin). */
  readListing(region: string): Promise<ReadRecord>;
  /** The regions of the GPUs in play. */
  readonly regions: readonly string[];
  /** Changes one GPU at the origin and starts delivering its event (retried until acknowledged). */
  change(gpuId: string): { raw: RawEvent; delivered: Promise<Acknowledgement> };
  /** Waits, on virtual time, for every delivery and every background task started so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startChaosWorld(label: string, options: { gpus?: number } = {}): Promise<ChaosWorld> {
  const time = new VirtualTime();
  const bridge = await startChaosBridge({ timers: time });
  time.watch(bridge);
  const keys = createKeyspace(uniquePrefix(`chaos-${label}`));
  const factory = new EventFactory();
  const originApp = createOriginApp({ store: factory.store, sleep: time.sleep });
  const origin = new ChaosOrigin(
    (path, signal) => Promise.resolve(originApp.fetch(new Request(`http://origin.chaos${path}`, { signal }))),
    time,
  );
  time.watch(origin);

  const logged: string[] = [];
  const log = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  const config = WORKER_DEFAULTS;
  const cache = new TieredCache({
    l2: bridge.tracked(createRedisL2Store(bridge.client(), keys)),
    fetchOrigin: origin.fetch,
    clock: time.clock,
    timers: time,
    logger: { warn: log, error: log },
    ...engineSettings(config),
  });
  const applier: EventApplier = bridge.tracked(
    createEventApplier(bridge.client(), keys, time.clock, config.policies),
  );

  const background: Promise<unknown>[] = [];
  const ctx: WaitUntil = { waitUntil: (promise) => background.push(promise.catch(() => {})) };
  const reads: ReadRecord[] = [];
  const acknowledged: Acknowledgement[] = [];
  const gpuIds = Array.from({ length: options.gpus ?? 12 }, (_, index) => factory.availableGpuId(index));
  const lookup = (gpuId: string) => {
    const resolve = routes["/v1/gpus/:gpuId"];
    if (!resolve) throw new Error("no GPU route");
    return resolve({ gpuId }, {}, keys);
  };
  const listingLookup = (region: string) => {
    const resolve = routes["/v1/gpus"];
    if (!resolve) throw new Error("no listing route");
    return resolve({}, { region }, keys);
  };
  const regions = [...new Set(gpuIds.map((gpuId) => factory.store.getGpu(gpuId)?.region ?? ""))].filter(
    Boolean,
  );

  const readThrough = async (name: string, target: CacheLookup, versioned: boolean): Promise<ReadRecord> => {
    const at = time.now();
    const outcome = await time.run(cache.get(target, ctx));
    const answer = outcome.ok ? outcome.value : undefined;
    const record: ReadRecord = {
      gpuId: name,
      dataClass: target.dataClass,
      at,
      ms: outcome.ms,
      status: answer?.status ?? 503,
      source: answer?.source,
      staleReason: answer?.staleReason,
      version:
        versioned && answer?.status === 200
          ? (JSON.parse(answer.body) as { version: number }).version
          : undefined,
    };
    reads.push(record);
    return record;
  };

  /** One delivery attempt: true once the applier answered, false when it failed or took over DELIVERY_TIMEOUT_MS. */
  const attempt = (raw: RawEvent) =>
    new Promise<boolean>((resolve) => {
      const timer = time.setTimeout(() => resolve(false), DELIVERY_TIMEOUT_MS);
      applier.apply([parsed(raw)]).then(
        () => {
          time.clearTimeout(timer);
          resolve(true);
        },
        () => {
          time.clearTimeout(timer);
          resolve(false);
        },
      );
    });

  const deliver = async (raw: RawEvent, gpuId: string): Promise<Acknowledgement> => {
    while (!(await attempt(raw))) await time.sleep(DELIVERY_RETRY_MS);
    const ack = { gpuId, version: raw.version, eventId: raw.id, at: time.now() };
    acknowledged.push(ack);
    return ack;
  };
  const deliveries: Promise<unknown>[] = [];
  let statusFlip = 0;

  return {
    time,
    bridge,
    origin,
    keys,
    cache,
    factory,
    gpuIds,
    reads,
    acknowledged,
    logged,
    lookup,
    regions,
    read: (gpuId) => readThrough(gpuId, lookup(gpuId), true),
    readListing: (region) => readThrough(`listing:${region}`, listingLookup(region), false),
    change(gpuId) {
      statusFlip += 1;
      const { raw } = factory.gpuStatusChanged(gpuId, statusFlip % 2 === 0 ? "offline" : "maintenance");
      const delivered = deliver(raw, gpuId);
      deliveries.push(delivered);
      return { raw, delivered };
    },
    async settle() {
      const settled = await time.run(Promise.all([...deliveries, ...background]));
      if (!settled.ok) throw settled.error;
    },
    async close() {
      await bridge.close();
      time.close();
    },
  };
}

/**
 * How long a read went on showing a version older than one acknowledged before it was sent:
 * from that acknowledgement (or from `since`, when later) to the read. 0 when it was current.
 */
export function staleness(read: ReadRecord, acknowledged: readonly Acknowledgement[], since = 0): number {
  if (read.version === undefined) return 0;
  const served = read.version;
  const missed = acknowledged.filter(
    (ack) => ack.gpuId === read.gpuId && ack.version > served && ack.at <= read.at,
  );
  if (missed.length === 0) return 0;
  const first = Math.min(...missed.map((ack) => ack.at));
  return Math.max(0, read.at - Math.max(first, since));
}
