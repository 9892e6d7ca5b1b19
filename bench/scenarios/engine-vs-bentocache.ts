/**
 * Scenario 6 of `npm run bench`: our tiered-cache engine next to bentocache, both with an
 * in-memory L1 and the same redis-server as L2, in one Node process, on the same bodies.
 *
 * Ours is built as workers/index.ts builds it (production defaults, system clock, the
 * invalidation-log sync every 500 ms). In production it reaches Redis over the Upstash REST
 * API; bentocache only speaks ioredis, so the L2 figure that goes into the ratio comes from
 * ours over a direct-TCP stand-in for the Upstash client, and the REST figure goes to notes.
 *
 * Every measured read is checked against the engines' own hit counters: a run in which one
 * read was served from another tier than the one measured fails instead of reporting.
 */
import { createHash, randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Redis } from "@upstash/redis";
import { BentoCache, type BentoStore, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisDriver } from "bentocache/drivers/redis";
import { Redis as IORedis } from "ioredis";
import { createRedisL2Store, type L2Store } from "../../core/cache/l2-store";
import { type CacheLookup, TieredCache, type WaitUntil } from "../../core/cache/tiered-cache";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import { createKeyspace, type Keyspace } from "../../core/keys";
import { systemClock } from "../../core/time/clock";
import { createOriginApp } from "../../dev/origin/app";
import { MarketplaceStore } from "../../dev/origin/store";
import { parseWorkerConfig } from "../../workers/config";
import { REDIS_CLIENT_OPTIONS } from "../../workers/index";
import { type RouteResolver, routes } from "../../workers/routes";
import { median } from "../lib/median";

export interface EngineVsBentocacheOptions {
  /** redis://127.0.0.1:PORT of a running redis-server (the bench starts it). */
  readonly redisUrl: string;
  /** Base URL + token of our Upstash-compatible REST bridge over that same redis-server (how our engine reaches Redis in production, via @upstash/redis). */
  readonly bridgeUrl: string;
  readonly bridgeToken: string;
  /** Measuring time per (engine × operation) run in one round; a smoke test passes ~200. */
  readonly durationMs: number;
  /** Rounds, each running every side once; the ratios are the median of the rounds' ratios. */
  readonly rounds: number;
}

export interface EngineVsBentocacheResult {
  /** The median over rounds of ours / bentocache, L1 hits per second */
  readonly l1HitRatio: number;
  /** The median over rounds of ours / bentocache, L2 hits per second, like for like (both over TCP) */
  readonly l2HitRatio: number;
  readonly ours: { readonly l1HitOpsPerSec: number; readonly l2HitOpsPerSec: number };
  readonly bentocache: { readonly l1HitOpsPerSec: number; readonly l2HitOpsPerSec: number };
  /** Plain sentences saying how each side was configured and anything that makes the comparison uneven. */
  readonly notes: string[];
}

/** Reads in flight at once, the same for every run: a Worker isolate serves concurrent requests. */
const CONCURRENCY = 16;
const WARMUP_MS = 300;
/** L1-hit runs cycle over a few hot GPU records, all resident in L1. */
const HOT_KEYS = 8;
/**
 * L2-hit runs cycle in order over far more keys than L1 holds: by the time a key comes round
 * again, hundreds of fills have pushed it out of the LRU, so every read misses L1 without any
 * extra step, and both sides pay the same L1 fill and eviction that a real L2 hit costs.
 */
const L2_KEYS = 512;
const L2_RUN_L1_ENTRIES = 16;

/** The Worker's defaults, from its own configuration parser (only the required settings given). */
const DEFAULTS = parseWorkerConfig({
  UPSTASH_REDIS_REST_URL: "http://redis.invalid",
  UPSTASH_REDIS_REST_TOKEN: "unused",
  ORIGIN_URL: "http://origin.invalid",
});
const L1_MAX_BYTES = DEFAULTS.l1MaxBytes;
const L1_MAX_ENTRIES = DEFAULTS.l1MaxEntries;
const SYNC_INTERVAL_MS = DEFAULTS.syncIntervalMs;
const L2_SOFT_TIMEOUT_MS = DEFAULTS.l2SoftTimeoutMs;
const L2_HARD_TIMEOUT_MS = DEFAULTS.l2HardTimeoutMs;
const ORIGIN_TIMEOUT_MS = DEFAULTS.originTimeoutMs;

/** Our "gpu" data class: fresh for 30 s, served stale (on error) for 10 min more. */
const GPU_POLICY = DEFAULT_DATA_CLASS_POLICIES.gpu;

type OriginFetch = (path: string, signal?: AbortSignal) => Promise<Response>;

/**
 * The sample origin's own app, called in process: bodies, Cache-Control and X-Origin-Version
 * exactly as it serves them, without a socket, since only hits are measured.
 */
function inProcessOrigin(): { fetch: OriginFetch; store: MarketplaceStore } {
  const store = new MarketplaceStore();
  const app = createOriginApp({ store });
  return {
    store,
    fetch: async (path, signal) =>
      app.fetch(new Request(`http://origin.bench${path}`, signal ? { signal } : {})),
  };
}

function resolver(pattern: string): RouteResolver {
  const resolve = routes[pattern];
  if (!resolve) throw new Error(`workers/routes has no route ${pattern}`);
  return resolve;
}

/** The Upstash client exactly as workers/index.ts builds it. */
function restClient(url: string, token: string): Redis {
  return new Redis({ url, token, ...REDIS_CLIENT_OPTIONS });
}

/**
 * What createRedisL2Store calls on the Upstash client — `hgetall`, `mget` and `createScript(...).exec`
 * (EVALSHA, then EVAL on NOSCRIPT, as @upstash/redis's Script does) — over ioredis, replying
 * in the shapes @upstash/redis gives with automaticDeserialization: false. The cast is the
 * price of not implementing the hundreds of methods the store never calls.
 */
function tcpUpstashClient(io: IORedis): Redis {
  return {
    // Upper case on purpose: ioredis turns a lower-case `hgetall` reply into an object, while
    // the Upstash client hands back Redis's flat [field, value, …] array.
    hgetall: (key: string) => io.call("HGETALL", key),
    mget: (...keys: string[]) => io.mget(...keys),
    createScript: (script: string) => {
      const sha = createHash("sha1").update(script).digest("hex");
      return {
        exec: async (keys: string[], args: string[]) => {
          try {
            return await io.evalsha(sha, keys.length, ...keys, ...args);
          } catch (error) {
            if (!(error instanceof Error) || !error.message.toLowerCase().includes("noscript")) throw error;
            return io.eval(script, keys.length, ...keys, ...args);
          }
        },
      };
    },
  } as unknown as Redis;
}

function buildEngine(l2: L2Store, origin: OriginFetch, l1MaxEntries: number): TieredCache {
  return new TieredCache({
    l2,
    fetchOrigin: origin,
    policies: DEFAULT_DATA_CLASS_POLICIES,
    clock: systemClock,
    l1MaxBytes: L1_MAX_BYTES,
    l1MaxEntries,
    syncIntervalMs: SYNC_INTERVAL_MS,
    l2SoftTimeoutMs: L2_SOFT_TIMEOUT_MS,
    l2HardTimeoutMs: L2_HARD_TIMEOUT_MS,
    originTimeoutMs: ORIGIN_TIMEOUT_MS,
  });
}

/** A Worker's `ctx`: collects the background work (L2 fills) so it can be awaited. */
function waitUntilCollector(): WaitUntil & { drain(): Promise<void> } {
  const pending: Promise<unknown>[] = [];
  return {
    waitUntil: (promise) => pending.push(promise),
    async drain() {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    },
  };
}

interface TierCounts {
  l1: number;
  l2: number;
  /** Anything else: origin fetches, stale answers. */
  other: number;
}

/** A cache under test: one read (of the next key in its own cycle) and its hit counters. */
interface Contender {
  readonly name: string;
  read(): Promise<unknown>;
  counts(): TierCounts;
}

function ourContender(name: string, cache: TieredCache, lookups: readonly CacheLookup[]): Contender {
  const ctx = waitUntilCollector();
  let cursor = 0;
  return {
    name,
    read: () => cache.get(lookups[cursor++ % lookups.length] as CacheLookup, ctx),
    counts: () => ({
      l1: cache.stats.hits.l1,
      l2: cache.stats.hits.l2,
      other:
        cache.stats.hits.origin +
        cache.stats.staleServed.revalidating +
        cache.stats.staleServed.error +
        cache.stats.bypass,
    }),
  };
}

interface BentoSide {
  readonly bento: BentoCache<{ cache: BentoStore }>;
  readonly counts: TierCounts;
}

/**
 * bentocache as its docs set up a two-tier store, the bus left out (see notes). Hits are
 * counted through its emitter option, which it calls on every read anyway, so counting costs
 * what its default EventEmitter with no listener costs.
 */
function buildBento(redisUrl: string, prefix: string, l1MaxItems: number): BentoSide {
  const counts: TierCounts = { l1: 0, l2: 0, other: 0 };
  const bento = new BentoCache({
    default: "cache",
    prefix,
    ttl: GPU_POLICY.l1FreshMs,
    grace: GPU_POLICY.staleIfErrorMs,
    emitter: {
      emit(event: string, data?: { layer?: "l1" | "l2"; graced?: boolean }) {
        if (event === "cache:miss") counts.other += 1;
        if (event !== "cache:hit") return;
        if (data?.graced || !data?.layer) counts.other += 1;
        else counts[data.layer] += 1;
      },
      on() {},
      once() {},
      off() {},
    },
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxItems: l1MaxItems, maxSize: L1_MAX_BYTES }))
        .useL2Layer(redisDriver({ connection: new IORedis(redisUrl) })),
    },
  });
  return { bento, counts };
}

function bentoContender(
  name: string,
  side: BentoSide,
  origin: OriginFetch,
  paths: readonly string[],
): Contender {
  // Read-through as a user would write it: the response body text, fetched on a miss.
  const reads = paths.map((path) => ({ key: path, factory: async () => (await origin(path)).text() }));
  let cursor = 0;
  return {
    name,
    read: () => {
      const { key, factory } = reads[cursor++ % reads.length] as (typeof reads)[number];
      return side.bento.getOrSet({ key, factory });
    },
    counts: () => ({ ...side.counts }),
  };
}

interface Tally {
  ops: number;
  ms: number;
}

/** CONCURRENCY loops of awaited reads until the deadline; time runs until the last read lands. */
async function drive(contender: Contender, durationMs: number): Promise<Tally> {
  let ops = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      await contender.read();
      ops += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return { ops, ms: performance.now() - started };
}

async function measure(contender: Contender, tier: "l1" | "l2", durationMs: number): Promise<Tally> {
  await drive(contender, Math.min(WARMUP_MS, durationMs));
  const before = contender.counts();
  const tally = await drive(contender, durationMs);
  const after = contender.counts();
  const served = after[tier] - before[tier];
  const elsewhere = after.l1 + after.l2 + after.other - (before.l1 + before.l2 + before.other) - served;
  if (served !== tally.ops || elsewhere !== 0) {
    throw new Error(
      `${contender.name}: ${tally.ops} reads, ${served} ${tier.toUpperCase()} hits and ${elsewhere} answers ` +
        `from elsewhere — not a measurement of ${tier.toUpperCase()} hits`,
    );
  }
  return tally;
}

function opsPerSec(tally: Tally): number {
  return tally.ms > 0 ? (tally.ops * 1000) / tally.ms : 0;
}

/**
 * Every contender once per round, in an order turned round each round, so a slow stretch of a
 * noisy machine falls on each side as often. Per contender, its rounds' tallies.
 */
async function runRounds(
  contenders: readonly Contender[],
  tier: "l1" | "l2",
  durationMs: number,
  rounds: number,
): Promise<Tally[][]> {
  const tallies = contenders.map((): Tally[] => []);
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order)
      tallies[index]?.push(await measure(contenders[index] as Contender, tier, durationMs));
  }
  return tallies;
}

function summed(tallies: readonly Tally[]): Tally {
  return tallies.reduce((total, tally) => ({ ops: total.ops + tally.ops, ms: total.ms + tally.ms }), {
    ops: 0,
    ms: 0,
  });
}

/** ours / theirs per round, as ops per second, sorted. */
function roundRatios(ours: readonly Tally[], theirs: readonly Tally[]): number[] {
  return ours
    .map((tally, round) => opsPerSec(tally) / opsPerSec(theirs[round] as Tally))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
}

async function unlinkByPrefix(io: IORedis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await io.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await io.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
}

export async function runEngineVsBentocache(
  options: EngineVsBentocacheOptions,
): Promise<EngineVsBentocacheResult> {
  const { redisUrl, durationMs, rounds } = options;
  const origin = inProcessOrigin();
  // One prefix per run for both sides' keys, so nothing collides and cleanup is one SCAN.
  const runPrefix = `bench-evb-${randomUUID().slice(0, 8)}`;
  const keys = createKeyspace(runPrefix);
  const bentoPrefix = `${runPrefix}-bento`;

  const gpuIds = origin.store
    .listGpus()
    .slice(0, L2_KEYS)
    .map((gpu) => gpu.gpuId);
  const gpuRoute = resolver("/v1/gpus/:gpuId");
  const lookups = gpuIds.map((gpuId) => gpuRoute({ gpuId }, {}, keys));
  const paths = lookups.map((lookup) => lookup.originPath);
  const hotLookups = lookups.slice(0, HOT_KEYS);
  const hotPaths = paths.slice(0, HOT_KEYS);

  const rest = restClient(options.bridgeUrl, options.bridgeToken);
  const tcp = new IORedis(redisUrl);
  const bentoSides: BentoSide[] = [];
  try {
    // Fill L2 through our engine as production does (origin → L1, L2 via waitUntil).
    const oursL2Rest = buildEngine(createRedisL2Store(rest, keys), origin.fetch, L2_RUN_L1_ENTRIES);
    const fillCtx = waitUntilCollector();
    let bodyChars = 0;
    for (let start = 0; start < lookups.length; start += CONCURRENCY) {
      const answers = await Promise.all(
        lookups.slice(start, start + CONCURRENCY).map((lookup) => oursL2Rest.get(lookup, fillCtx)),
      );
      for (const answer of answers) bodyChars += answer.body.length;
    }
    await fillCtx.drain();
    const refused = oursL2Rest.stats.fillsRefused.older + oursL2Rest.stats.fillsRefused.raced;
    if (oursL2Rest.stats.hits.origin !== lookups.length || refused > 0 || oursL2Rest.stats.redisErrors > 0) {
      throw new Error(
        `filling L2 through our engine: ${oursL2Rest.stats.hits.origin}/${lookups.length} from the origin, ` +
          `${refused} fills refused, ${oursL2Rest.stats.redisErrors} Redis errors`,
      );
    }

    const bentoL1 = buildBento(redisUrl, bentoPrefix, L1_MAX_ENTRIES);
    bentoSides.push(bentoL1);
    const bentoL2 = buildBento(redisUrl, bentoPrefix, L2_RUN_L1_ENTRIES);
    bentoSides.push(bentoL2);
    // bentocache fills its L2 (and the shared prefix serves both its instances) through its own getOrSet.
    const bentoFiller = bentoContender("bentocache fill", bentoL2, origin.fetch, paths);
    for (let start = 0; start < paths.length; start += CONCURRENCY) {
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, paths.length - start) }, bentoFiller.read),
      );
    }
    if (bentoL2.counts.other !== paths.length) {
      throw new Error(`filling bentocache: ${bentoL2.counts.other}/${paths.length} reads reached the origin`);
    }

    const l1 = {
      ours: ourContender(
        "ours L1 (REST)",
        buildEngine(createRedisL2Store(rest, keys), origin.fetch, L1_MAX_ENTRIES),
        hotLookups,
      ),
      bento: bentoContender("bentocache L1", bentoL1, origin.fetch, hotPaths),
    };
    const l2 = {
      ours: ourContender(
        "ours L2 (TCP)",
        buildEngine(createRedisL2Store(tcpUpstashClient(tcp), keys), origin.fetch, L2_RUN_L1_ENTRIES),
        lookups,
      ),
      bento: bentoContender("bentocache L2", bentoL2, origin.fetch, paths),
      oursRest: ourContender("ours L2 (REST)", oursL2Rest, lookups),
    };
    const [oursL1, bentoL1Rounds] = await runRounds([l1.ours, l1.bento], "l1", durationMs, rounds);
    const [oursL2, bentoL2Rounds, oursL2RestRounds] = await runRounds(
      [l2.ours, l2.bento, l2.oursRest],
      "l2",
      durationMs,
      rounds,
    );
    if (!oursL1 || !bentoL1Rounds || !oursL2 || !bentoL2Rounds || !oursL2RestRounds)
      throw new Error("a contender ran no round");
    const l1Ratios = roundRatios(oursL1, bentoL1Rounds);
    const l2Ratios = roundRatios(oursL2, bentoL2Rounds);

    const ours = { l1HitOpsPerSec: opsPerSec(summed(oursL1)), l2HitOpsPerSec: opsPerSec(summed(oursL2)) };
    const bentocache = {
      l1HitOpsPerSec: opsPerSec(summed(bentoL1Rounds)),
      l2HitOpsPerSec: opsPerSec(summed(bentoL2Rounds)),
    };
    const oursRest = opsPerSec(summed(oursL2RestRounds));
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);
    const int = (n: number) => Math.round(n).toLocaleString("en-US");
    const spread = (sorted: readonly number[]) =>
      sorted.length === 0 ? "none" : `${sorted[0]?.toFixed(2)}× to ${sorted.at(-1)?.toFixed(2)}×`;
    return {
      l1HitRatio: ratio(median(l1Ratios), 1),
      l2HitRatio: ratio(median(l2Ratios), 1),
      ours: {
        l1HitOpsPerSec: Math.round(ours.l1HitOpsPerSec),
        l2HitOpsPerSec: Math.round(ours.l2HitOpsPerSec),
      },
      bentocache: {
        l1HitOpsPerSec: Math.round(bentocache.l1HitOpsPerSec),
        l2HitOpsPerSec: Math.round(bentocache.l2HitOpsPerSec),
      },
      notes: [
        `Both sides read the sample origin's GPU record bodies (avg ${Math.round(bodyChars / lookups.length)} bytes of JSON, served in process) in one Node process, against the same redis-server; ${CONCURRENCY} reads in flight, ${int(Math.min(WARMUP_MS, durationMs))} ms warm-up, then ${rounds} rounds of ${int(durationMs)} ms per side and operation, the order turned round each round; each ratio is the median of the rounds' ratios (L1: ${spread(l1Ratios)}; L2: ${spread(l2Ratios)}), the ops/s the totals.`,
        `Ours: TieredCache as workers/index.ts builds it (production defaults: L1 ${int(L1_MAX_ENTRIES)} entries / 32 MiB, invalidation-log sync every ${SYNC_INTERVAL_MS} ms on the system clock, gpu class fresh 30 s); lookups from workers/routes, prebuilt, so route parsing is not counted.`,
        `bentocache 1.6.1: bentostore with memoryDriver (maxItems ${int(L1_MAX_ENTRIES)}, maxSize 32 MiB, default serialize) + redisDriver (ioredis), ttl 30 s, grace 10 min, read through getOrSet with the body text as the value; no bus and no tags.`,
        `L1 hit: ${HOT_KEYS} hot GPU records read round-robin. Ours pays its invalidation-log sync (one Redis round trip every ${SYNC_INTERVAL_MS} ms, over REST as in production) inside this figure; bentocache has no bus configured, so the cost of its cross-instance invalidation is not measured.`,
        `L2 hit: ${L2_KEYS} keys read in order with L1 capped at ${L2_RUN_L1_ENTRIES} entries on both sides, so every read misses L1, reads Redis once and refills L1 (with an eviction), as a real L2 hit does; every measured read was checked against each engine's own hit counters. redis-server (and, for REST, the bridge) competes with both engines for the same CPUs, so L2 figures move with the machine more than L1 figures do.`,
        `l2HitRatio is like for like: ours over ioredis (TCP) through a stand-in for the Upstash client. Ours over the REST bridge (production path, @upstash/redis → bridge → redis-server): ${int(oursRest)} ops/s (${ratio(oursRest, bentocache.l2HitOpsPerSec)}× bentocache).`,
        "Uneven by design: bentocache's L1 keeps entries JSON-serialized and parses one on every L1 hit (its default, required for maxSize); ours keeps the body string as served.",
        "Uneven by design: an L2 hit is one HGETALL of a hash for ours (the ETag stored with the body) and one GET of a JSON string for bentocache; ours also indexes each L1 fill by tag, which bentocache does not do without tags (and with tags it would look up each tag's invalidation key on every read), and bounds each Redis call with a timeout and a circuit breaker.",
      ],
    };
  } finally {
    // Cleanup failures are swallowed so they never hide the error that ended the run.
    await Promise.allSettled(bentoSides.map((side) => side.bento.disconnect()));
    await unlinkByPrefix(tcp, runPrefix).catch(() => {});
    await tcp.quit().catch(() => {});
  }
}

/**
 * A realistic L1 mix for the memory figures: GPU record bodies with 1% listing bodies (the
 * default 50-item page per region and GPU type), all as the sample origin serves them.
 */
const MEMORY_ENTRIES = 1_000;
const LISTING_SHARE = 0.01;

/** An L2 that has nothing and keeps nothing: only L1 is being weighed. */
const emptyL2: L2Store = {
  get: async () => undefined,
  getMany: async (keys) => keys.map(() => undefined),
  readListings: async () => ({ outcome: "not-ready" }),
  fill: async () => "stored",
  readLog: async () => ({ lastId: "0-0", epoch: "bench", entries: [], lost: false, reset: false }),
  tagVersions: async (tags) => tags.map(() => undefined),
};

/**
 * One lookup builder per entry of the mix. Builders rather than lookups because production
 * resolves a route per request and L1 keeps that request's key and tag strings: building them
 * during the fill lets the heap figure see them.
 */
function memoryMix(store: MarketplaceStore, keys: Keyspace, count: number): Array<() => CacheLookup> {
  const listingRoute = resolver("/v1/gpus");
  const gpuRoute = resolver("/v1/gpus/:gpuId");
  const listings = store
    .listRegions()
    .flatMap((region) =>
      store.listGpuTypes().map((type) => ({ region: region.regionId, type: type.gpuType })),
    )
    .slice(0, Math.round(count * LISTING_SHARE))
    .map((query) => () => listingRoute({}, query, keys));
  const gpus = store
    .listGpus()
    .slice(0, count - listings.length)
    .map((gpu) => ({ gpuId: gpu.gpuId }))
    .map((params) => () => gpuRoute(params, {}, keys));
  const mix = [...gpus, ...listings];
  if (mix.length !== count) throw new Error(`the sample origin has only ${mix.length} distinct values`);
  return mix;
}

async function fillL1(cache: TieredCache, mix: ReadonlyArray<() => CacheLookup>): Promise<void> {
  const ctx = waitUntilCollector();
  for (const lookup of mix) await cache.get(lookup(), ctx);
  await ctx.drain();
}

/**
 * Bytes per 1,000 entries as our L1 accounts them (what counts against L1_MAX_BYTES):
 * its own size calculation summed by lru-cache, over the realistic mix above.
 */
export async function measureL1BytesPer1kEntries(): Promise<number> {
  const origin = inProcessOrigin();
  const cache = buildEngine(emptyL2, origin.fetch, L1_MAX_ENTRIES);
  const mix = memoryMix(origin.store, createKeyspace("bench-l1-bytes"), MEMORY_ENTRIES);
  await fillL1(cache, mix);
  const { entries, bytes } = cache.l1Usage;
  if (entries !== mix.length) throw new Error(`L1 kept ${entries} of ${mix.length} entries`);
  return Math.round((bytes * MEMORY_ENTRIES) / entries);
}

/**
 * The origin's answers recorded once and replayed: the sample origin counts requests per
 * path, which would grow the heap beside L1. Each replay decodes its body afresh, as a real
 * fetch does, so L1 holds strings of its own.
 */
async function replayOrigin(origin: OriginFetch, paths: readonly string[]): Promise<OriginFetch> {
  const recorded = new Map<string, { status: number; headers: [string, string][]; body: string }>();
  for (const path of paths) {
    const response = await origin(path);
    recorded.set(path, {
      status: response.status,
      headers: [...response.headers],
      body: await response.text(),
    });
  }
  return async (path) => {
    const reply = recorded.get(path);
    if (!reply) throw new Error(`no recorded answer for ${path}`);
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  };
}

/**
 * Everything the heap measurement needs before its first reading, built in a frame of its own:
 * a suspended async function can keep (or drop) its temporaries at any later await, which
 * would move the heap between the readings for reasons that have nothing to do with L1.
 * A first fill of a throwaway engine takes one-off growth (compiled code, WebCrypto) out.
 */
async function heapFixture(): Promise<{ cache: TieredCache; mix: ReadonlyArray<() => CacheLookup> }> {
  const inProcess = inProcessOrigin();
  const mix = memoryMix(inProcess.store, createKeyspace("bench-l1-heap"), 2 * MEMORY_ENTRIES);
  const origin = await replayOrigin(
    inProcess.fetch,
    mix.map((lookup) => lookup().originPath),
  );
  await fillL1(buildEngine(emptyL2, origin, L1_MAX_ENTRIES), mix);
  return { cache: buildEngine(emptyL2, origin, L1_MAX_ENTRIES), mix };
}

/**
 * Heap actually retained per 1,000 L1 entries of the same mix, beside the accounted figure:
 * heap after full GCs before and after filling 2,000 entries (the sample origin's whole
 * catalogue). `node --import tsx` does not pass --expose-gc, so the flag is set at run time.
 */
export async function measureL1HeapBytesPer1kEntries(): Promise<number> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  // FinalizationRegistry callbacks (undici registers Response bodies) only run in a later task,
  // and only then let go of what they held: collect, yield, collect again.
  const settledHeap = async () => {
    for (let pass = 0; pass < 3; pass++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().heapUsed;
  };
  const fixture = await heapFixture();
  const before = await settledHeap();
  await fillL1(fixture.cache, fixture.mix);
  const after = await settledHeap();
  const { entries } = fixture.cache.l1Usage;
  if (entries !== fixture.mix.length) throw new Error(`L1 kept ${entries} of ${fixture.mix.length} entries`);
  return Math.round(((after - before) * MEMORY_ENTRIES) / entries);
}
