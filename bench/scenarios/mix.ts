/**
 * 3. Realistic mix: Zipf (s = 1.1) over a key universe spanning every edge route, while
 * the booking system sends a steady stream of signed events (bookings, cancellations,
 * price changes). Hit ratios come from the X-Cache header of every response; Redis
 * commands from the bridge the Worker reads through; origin fetches from the sample
 * origin's counters. The Worker reads Redis through the bridge it is given: the bench runs
 * the mix a round trip away (services.distantWorkerBridge), where Upstash is from the edge.
 */
import { GPU_STATUSES } from "../../core/domain";
import { deliverEvents, originAdmin, type WebhookEvent } from "../../dev/local/marketplace-events";
import { GPU_TYPE_PROFILES, REGION_PROFILES } from "../../dev/origin/catalog";
import { mulberry32 } from "../../dev/origin/generate";
import type { OriginServer } from "../../dev/origin/server";
import type { BridgeProcess } from "../lib/bridge-process";
import { measuredLoad, runLoad } from "../lib/load";
import { redisUsdPerMillionRequests } from "../lib/pricing";
import type { BenchProfile } from "../lib/profile";
import type { LoadSummary, MixResult } from "../lib/results";
import { BENCH_OPERATOR_TOKEN, type BenchServices, originRequests, WEBHOOK_SECRET } from "../lib/services";
import { seededShuffle } from "../lib/zipf";

export const ZIPF_S = 1.1;
const SEED = 1_100;
const LISTING_LIMITS = [10, 20, 50];
const SORTS = [undefined, "price", "performance"];

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Every non-GPU key the edge serves for this catalogue: listings, prices, stats, order books, reference data. */
export function nonGpuPaths(
  regions: readonly string[],
  types: readonly string[],
  providers: readonly string[],
) {
  const anyRegion = [undefined, ...regions];
  const anyType = [undefined, ...types];
  const paths: string[] = ["/v1/regions", "/v1/gpu-types"];
  for (const region of anyRegion)
    for (const type of anyType) {
      paths.push(`/v1/pricing${query({ type, region })}`, `/v1/market/stats${query({ region, type })}`);
      for (const status of [undefined, ...GPU_STATUSES])
        for (const sort of SORTS)
          for (const limit of LISTING_LIMITS)
            paths.push(`/v1/gpus${query({ region, type, status, sort, limit })}`);
    }
  for (const type of types)
    for (const region of anyRegion) paths.push(`/v1/orderbook/${type}${query({ region })}`);
  for (const provider of providers) paths.push(`/v1/providers/${provider}`);
  return paths;
}

export const MIX_PROVIDER_COUNT = 50;

/** How many GPUs the origin needs so that GPU records fill the universe up to `keys`. */
export function gpuCountFor(keys: number): number {
  const others = nonGpuPaths(
    REGION_PROFILES.map((region) => region.regionId),
    GPU_TYPE_PROFILES.map((type) => type.gpuType),
    Array.from({ length: MIX_PROVIDER_COUNT }, (_, index) => String(index)),
  ).length;
  // Small universes (the smoke profile) still get a marketplace whose listings are full.
  return Math.max(keys - others, 500);
}

/** The universe in Zipf rank order: a seeded shuffle, so no route is hot by construction. */
export function mixUniverse(origin: OriginServer, keys: number): string[] {
  const store = origin.store;
  const all = [
    ...nonGpuPaths(
      store.listRegions().map((region) => region.regionId),
      store.listGpuTypes().map((type) => type.gpuType),
      store.listProviders().map((provider) => provider.providerId),
    ),
    ...store.listGpus().map((gpu) => `/v1/gpus/${gpu.gpuId}`),
  ];
  return seededShuffle(all, SEED).slice(0, keys);
}

/** The booking system at work: a delivery every 1/rate s, until stopped; resolves with the events sent. */
function eventStream(services: BenchServices, deliveriesPerSecond: number) {
  const admin = originAdmin(services.origin.url);
  const random = mulberry32(SEED + 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const booked: string[] = [];
  let sent = 0;
  let failures = 0;
  let running = true;

  const nextChange = async (): Promise<readonly WebhookEvent[]> => {
    const roll = random();
    if (roll < 0.4) {
      const gpu = pick(services.origin.store.listGpus({ status: "available" }));
      const { booking, events } = await admin.bookGpu(gpu.gpuId, "bench-user");
      booked.push(booking.bookingId);
      return events;
    }
    if (roll < 0.75 && booked.length > 0) {
      return admin.cancelBooking(booked.splice(Math.floor(random() * booked.length), 1)[0] as string);
    }
    const price = pick(services.origin.store.listPrices());
    const factor = 0.95 + random() * 0.1;
    return admin.setPrice(price.gpuType, price.region, Math.round(price.pricePerHour * factor * 100) / 100);
  };

  const done = (async () => {
    const interval = 1000 / deliveriesPerSecond;
    let due = performance.now();
    while (running) {
      try {
        const events = await nextChange();
        const answer = await deliverEvents(services.pipeline.url, WEBHOOK_SECRET, events);
        if (answer.status === 202) sent += events.length;
        else failures += 1;
      } catch {
        failures += 1;
      }
      due += interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return { sent, failures };
  })();
  return {
    async stop() {
      running = false;
      return done;
    },
  };
}

/** What the mix moved through L2, for the compression estimate (bench/scenarios/compression.ts). */
export interface MixL2Traffic {
  readonly redisDelayMs: number;
  readonly requests: number;
  /** Values read from L2, background refreshes included (/_cache/stats hits.l2 + viewReads.refreshed). */
  readonly valueReads: number;
  /** Loads answered by the origin: each fill writes its value to L2 (/_cache/stats hits.origin). */
  readonly valueWrites: number;
  /** The body sizes of answers that came out of L2 or went into it (X-Cache L2, ORIGIN, STALE). */
  readonly bodies: NonNullable<LoadSummary["xCacheBodies"]>[string];
}

/** The X-Cache values whose body moved through L2: read from it, written after an origin fetch, or refreshed behind a STALE answer. */
const L2_MOVED = ["L2", "ORIGIN", "STALE"] as const;

/**
 * Our engine's load counters (/_cache/stats): values read from L2 (loads it answered, listing
 * views among them, and the listings re-read together after a sync) and loads the origin answered.
 */
async function engineLoads(workerUrl: string): Promise<{ l2: number; origin: number }> {
  const response = await fetch(`${workerUrl}/_cache/stats`, {
    headers: { authorization: `Bearer ${BENCH_OPERATOR_TOKEN}` },
  });
  if (!response.ok) throw new Error(`/_cache/stats answered ${response.status}`);
  const stats = (await response.json()) as {
    hits?: { l2?: unknown; origin?: unknown };
    viewReads?: { refreshed?: unknown };
  };
  const l2 = stats.hits?.l2;
  const origin = stats.hits?.origin;
  if (typeof l2 !== "number" || typeof origin !== "number")
    throw new Error("/_cache/stats carries no hits.l2 and hits.origin counts");
  const refreshed = stats.viewReads?.refreshed;
  return { l2: l2 + (typeof refreshed === "number" ? refreshed : 0), origin };
}

export async function runMix(
  services: BenchServices,
  profile: BenchProfile,
  bridge: BridgeProcess,
): Promise<{ mix: MixResult; l2Traffic: MixL2Traffic }> {
  const paths = mixUniverse(services.origin, profile.mixKeys);
  const worker = await services.startOurWorker({ bridge });
  try {
    // Warm-up: every key once, so the run measures steady state, not the first sight of the tail.
    const warm = await runLoad({
      url: worker.url,
      plan: { kind: "paths", paths },
      connections: profile.connections,
      amount: paths.length,
    });
    if (warm.non2xx > 0 || warm.errors > 0)
      throw new Error(`mix warm-up: ${warm.non2xx} non-2xx answers, ${warm.errors} errors`);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const before = (await bridge.usage()).commands;
    const originBefore = await originRequests(services.origin.url);
    const loadsBefore = await engineLoads(worker.url);
    const stream = eventStream(services, profile.mixDeliveriesPerSecond);
    const started = performance.now();
    const load = await measuredLoad(worker, {
      url: worker.url,
      plan: { kind: "zipf", paths, s: ZIPF_S, seed: SEED },
      connections: profile.connections,
      seconds: profile.mixSeconds,
      tallyXCache: true,
    });
    const { sent, failures } = await stream.stop();
    const elapsedSeconds = (performance.now() - started) / 1000;
    // Nothing else reads the origin's public routes meanwhile (the event stream changes it through /_admin).
    const originFetches = (await originRequests(services.origin.url)) - originBefore;
    const loadsAfter = await engineLoads(worker.url);
    // The counters live in the isolate: had it been replaced, the deltas would mean nothing.
    if (loadsAfter.l2 < loadsBefore.l2 || loadsAfter.origin < loadsBefore.origin)
      throw new Error("mix: the Worker's /_cache/stats went backwards (a new isolate answered)");
    const commands = (await bridge.usage()).commands - before;
    if (failures > 0) throw new Error(`mix: ${failures} event deliveries failed`);

    const tally = load.xCache ?? {};
    const total = load.requests || 1;
    const l1 = (tally.L1 ?? 0) + (tally.STALE ?? 0);
    const l2 = tally.L2 ?? 0;
    const redisCommandsPer1k = (commands / total) * 1000;
    const moved: MixL2Traffic["bodies"] = {};
    for (const tier of L2_MOVED)
      for (const [bucket, counted] of Object.entries(load.xCacheBodies?.[tier] ?? {})) {
        const key = bucket as keyof typeof moved;
        const into = moved[key] ?? { responses: 0, bytes: 0 };
        moved[key] = {
          responses: into.responses + (counted?.responses ?? 0),
          bytes: into.bytes + (counted?.bytes ?? 0),
        };
      }
    return {
      mix: {
        redisDelayMs: bridge.delayMs,
        keys: paths.length,
        zipfS: ZIPF_S,
        requests: load.requests,
        rps: load.rps,
        l1HitRatio: l1 / total,
        l2HitRatio: l2 / total,
        overallHitRatio: (l1 + l2) / total,
        redisCommandsPer1k,
        p50Ms: load.p50Ms,
        p99Ms: load.p99Ms,
        non2xx: load.non2xx,
        eventsSent: sent,
        eventsPerSecond: sent / elapsedSeconds,
        staleServed: tally.STALE ?? 0,
        ...(load.workerCpuMsPer1k !== undefined ? { workerCpuMsPer1k: load.workerCpuMsPer1k } : {}),
        originFetches,
        originFetchesPer1k: (originFetches / total) * 1000,
        redisUsdPerMillionRequests: redisUsdPerMillionRequests(redisCommandsPer1k),
      },
      l2Traffic: {
        redisDelayMs: bridge.delayMs,
        requests: load.requests,
        valueReads: loadsAfter.l2 - loadsBefore.l2,
        valueWrites: loadsAfter.origin - loadsBefore.origin,
        bodies: moved,
      },
    };
  } finally {
    await worker.stop();
  }
}
