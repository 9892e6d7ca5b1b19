/**
 * Helpers for the Worker tests (inside workerd): the harness's bindings, a raw Redis
 * client, the shared origin's counters, and edge apps built per test with a manual
 * clock, their own key prefix and an origin the test controls.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import type { TieredCache } from "../../core/cache/tiered-cache";
import { encodeLogFields } from "../../core/invalidation-log";
import { createKeyspace, type Keyspace } from "../../core/keys";
import { encodeL2Record, type L2Record } from "../../core/read-model";
import type { Clock } from "../../core/time/clock";
import { createEdgeApp, type EdgeServices } from "../../workers/app";
import { buildServices } from "../../workers/index";
import {
  ANALYTICS_BINDING,
  type DataPoint,
  type DataPointWriter,
  recordingLog,
} from "../../workers/telemetry";

export const bindings = env as unknown as Record<string, string>;
export const ORIGIN_URL = bindings.ORIGIN_URL as string;

/** The Analytics Engine binding wrangler.toml declares, as workerd (Miniflare's simulator) gives it. */
export const analyticsDataset = (env as unknown as Record<string, AnalyticsEngineDataset>)[
  ANALYTICS_BINDING
] as AnalyticsEngineDataset;

/** Hands every point to the real binding and keeps a copy, so a test sees what the Worker wrote. */
export class RecordingDataset implements DataPointWriter {
  readonly points: DataPoint[] = [];
  constructor(private readonly dataset: AnalyticsEngineDataset = analyticsDataset) {}
  writeDataPoint(point: DataPoint): void {
    this.points.push(point);
    this.dataset.writeDataPoint(point);
  }
}

/** Raw access to the harness's Redis, as the event Lambda and operators have it. */
export const redis = new Redis({
  url: bindings.UPSTASH_REDIS_REST_URL as string,
  token: bindings.UPSTASH_REDIS_REST_TOKEN as string,
  automaticDeserialization: false,
  enableTelemetry: false,
});

/** The keyspace of the Worker under test (`exports.default`): the default prefix. */
export const workerKeys = createKeyspace();

/** A request to the real Worker, through its module-scope services. */
export function edgeGet(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://edge.test${path}`, { headers }));
}

/** The origin's own answer, straight from it. */
export async function originText(path: string): Promise<string> {
  const response = await fetch(`${ORIGIN_URL}${path}`);
  if (response.status !== 200) throw new Error(`origin answered ${response.status} for ${path}`);
  return response.text();
}

/** How often the shared origin served `path` (no query): only exact for paths one test file uses. */
export async function originCount(path: string): Promise<number> {
  const counters = (await (await fetch(`${ORIGIN_URL}/_admin/counters`)).json()) as {
    byPath: Record<string, number>;
  };
  return counters.byPath[path] ?? 0;
}

/** HGETALL as an object; `{}` when the key does not exist. */
export async function hashOf(key: string): Promise<Record<string, string>> {
  const flat = (await redis.hgetall(key)) as unknown;
  const fields: Record<string, string> = {};
  if (Array.isArray(flat)) {
    for (let index = 0; index + 1 < flat.length; index += 2)
      fields[String(flat[index])] = String(flat[index + 1]);
  } else if (flat && typeof flat === "object") {
    for (const [name, value] of Object.entries(flat)) fields[name] = String(value);
  }
  return fields;
}

/** What the event Lambda does for a change: the new record (write-through), then a log entry naming its tags. */
export async function lambdaWrite(keys: Keyspace, l2Key: string, record: L2Record): Promise<string> {
  await redis.hset(l2Key, encodeL2Record(record));
  return (await redis.xadd(keys.invalidationLog, "*", {
    ...encodeLogFields({ tags: record.tags, eventId: `evt-${crypto.randomUUID()}`, at: Date.now() }),
  })) as string;
}

export interface ServerTimingItem {
  readonly name: string;
  readonly dur: number;
}

/** Parses `Server-Timing`; throws on an item that is not `name;dur=N`. */
export function parseServerTiming(header: string | null): ServerTimingItem[] {
  if (!header) throw new Error("no Server-Timing header");
  return header.split(",").map((item) => {
    const match = /^\s*([a-z0-9_-]+);dur=(\d+(?:\.\d+)?)\s*$/i.exec(item);
    if (!match) throw new Error(`unparseable Server-Timing item '${item}'`);
    return { name: match[1] as string, dur: Number(match[2]) };
  });
}

export class ManualClock implements Clock {
  constructor(private ms = 1_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export type OriginHandler = (path: string, init: RequestInit | undefined) => Promise<Response> | Response;

/**
 * What the Worker reads (through its cache) to check `region` and GPU type parameters
 * (workers/reference-catalog.ts): on a cold isolate, the first request naming one asks the origin for these too.
 */
export const REFERENCE_PATHS: readonly string[] = ["/v1/regions", "/v1/gpu-types"];

/** An origin the test controls: by default the shared sample origin; every call is recorded. */
export class TestOrigin {
  readonly calls: Array<{ path: string; headers: Headers }> = [];
  /** Swap to fail, delay or answer anything. */
  handler: OriginHandler = (path, init) => fetch(`${ORIGIN_URL}${path}`, init);

  readonly fetch = async (path: string, init?: RequestInit): Promise<Response> => {
    this.calls.push({ path, headers: new Headers(init?.headers) });
    return this.handler(path, init);
  };

  count(path?: string): number {
    return path === undefined ? this.calls.length : this.calls.filter((call) => call.path === path).length;
  }

  /** The calls other than reads of the reference lists. */
  dataCalls(): Array<{ path: string; headers: Headers }> {
    return this.calls.filter((call) => !REFERENCE_PATHS.includes(call.path));
  }

  /** The origin answers 503 to everything. */
  failWith503(): void {
    this.handler = () => new Response('{"error":"down"}', { status: 503 });
  }

  /** The origin cannot be reached at all. */
  failToConnect(): void {
    this.handler = () => Promise.reject(new TypeError("Network connection lost."));
  }
}

export interface TestApp {
  readonly services: EdgeServices;
  /** Every log record the app wrote. */
  readonly log: ReturnType<typeof recordingLog>;
  /** Every data point the app wrote, through the real binding. */
  readonly dataset: RecordingDataset;
  readonly cache: TieredCache;
  readonly keys: Keyspace;
  readonly clock: ManualClock;
  readonly origin: TestOrigin;
  /** One GET; waits for the request's background work (L2 fills, refreshes) unless `settle` is false. */
  get(path: string, headers?: Record<string, string>, settle?: boolean): Promise<Response>;
  /** Any method and body; waits for the request's background work. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * An edge app like the Worker's (workers/index.ts wiring), isolated per test: its own L1,
 * its own key prefix in the real Redis, a manual clock and a controlled origin.
 * `bindingOverrides` replace the harness's bindings (e.g. a broken Redis URL, OPERATOR_TOKEN).
 */
export function makeTestApp(
  options: {
    bindingOverrides?: Record<string, string>;
    keyPrefix?: string;
    origin?: TestOrigin;
    clock?: ManualClock;
  } = {},
): TestApp {
  const clock = options.clock ?? new ManualClock();
  const origin = options.origin ?? new TestOrigin();
  const log = recordingLog();
  const dataset = new RecordingDataset();
  const services = buildServices(
    {
      ...bindings,
      [ANALYTICS_BINDING]: dataset,
      KEY_PREFIX: options.keyPrefix ?? uniquePrefix(),
      ...options.bindingOverrides,
    },
    { clock, fetchOrigin: origin.fetch, log },
  );
  const { cache, keys } = services;
  const app = createEdgeApp(() => services);
  return {
    services,
    log,
    dataset,
    cache,
    keys,
    clock,
    origin,
    async get(path, headers = {}, settle = true) {
      const ctx = createExecutionContext();
      const response = await app.request(`http://edge.test${path}`, { headers }, bindings, ctx);
      if (settle) await waitOnExecutionContext(ctx);
      return response;
    },
    async request(path, init = {}) {
      const ctx = createExecutionContext();
      const response = await app.request(`http://edge.test${path}`, init, bindings, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    },
  };
}

export function uniquePrefix(): string {
  return `wt-${crypto.randomUUID().slice(0, 12)}`;
}

/**
 * Every key under a prefix (SCAN, so the shared Redis is never blocked), but the log's epoch
 * (core/keys.ts `logEpoch`): the Worker's first log read sets it, bookkeeping rather than a value kept.
 */
export async function keysUnder(keys: Keyspace): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = (await redis.scan(cursor, { match: `${keys.root}*`, count: 1000 })) as [
      string,
      string[],
    ];
    found.push(...batch);
    cursor = String(next);
  } while (cursor !== "0");
  return found.filter((key) => key !== keys.logEpoch);
}
