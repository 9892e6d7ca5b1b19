/**
 * Fixtures for the tiered-cache tests: the engine built as production builds it (the
 * real @upstash/redis client through the bridge to a real redis-server, the real L2
 * store), with a manual clock, a `waitUntil` collector, a fake origin the test
 * controls, a chaos wrapper around the store, and the event Lambda's writes (L2
 * records and invalidation-log entries) done through the same bridge.
 */
import type { Redis } from "@upstash/redis";
import {
  createRedisL2Store,
  type FillOutcome,
  type L2Store,
  type ListingView,
  type ListingViewsRead,
  type LogRead,
  type StoredBody,
} from "../../../core/cache/l2-store";
import {
  type CacheLookup,
  TieredCache,
  type TieredCacheOptions,
  type WaitUntil,
} from "../../../core/cache/tiered-cache";
import type { DataClassName } from "../../../core/data-classes";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import type { L2Record } from "../../../core/read-model";
import { type RouteResolver, routes } from "../../../workers/routes";
import { ManualClock } from "../../support/manual-clock";
import { uniquePrefix, upstashClient } from "../../support/redis";

export { LambdaSide, readHash, uniquePrefix, upstashClient } from "../../support/redis";

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface OriginReplyOptions {
  /** Sent as X-Origin-Version. */
  readonly version?: number;
  readonly status?: number;
  /** Replaces the default `Cache-Control: public, max-age=30`; other headers are added. */
  readonly headers?: Record<string, string>;
}

interface OriginReply extends OriginReplyOptions {
  readonly body: string;
}

/**
 * The origin as a function the engine calls (`fetchOrigin`): deterministic counts and
 * faults, unlike the real origin, which every test file shares. Each fetch reads its
 * reply (and any fault) when it starts, as an origin reads its database; `hold()`
 * delays the answer, as a slow network would.
 */
export class FakeOrigin {
  readonly calls: string[] = [];
  #replies = new Map<string, OriginReply>();
  #fault: { status: number } | { error: Error } | undefined;
  #gate: Promise<void> | undefined;
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  /** What `path` answers from now on; returns the body text. */
  set(path: string, body: unknown, options: OriginReplyOptions = {}): string {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    this.#replies.set(path, { body: text, ...options });
    return text;
  }

  /** Every fetch from now on answers this status. */
  failWith(status: number): void {
    this.#fault = { status };
  }

  /** Every fetch from now on rejects (a network error). */
  throwOnFetch(message = "connect ECONNREFUSED (fake origin)"): void {
    this.#fault = { error: new TypeError(message) };
  }

  heal(): void {
    this.#fault = undefined;
  }

  /** Fetches started from now on wait until the returned function is called. */
  hold(): () => void {
    const gate = deferred();
    this.#gate = gate.promise;
    return () => {
      if (this.#gate === gate.promise) this.#gate = undefined;
      gate.resolve();
    };
  }

  count(path?: string): number {
    return path === undefined ? this.calls.length : this.calls.filter((call) => call === path).length;
  }

  /** Resolves once `count` fetches in all have started. */
  called(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    const waiter = deferred();
    this.#waiters.push({ count, resolve: () => waiter.resolve() });
    return waiter.promise;
  }

  readonly fetch = async (path: string, signal: AbortSignal): Promise<Response> => {
    this.calls.push(path);
    for (const waiter of this.#waiters.filter((w) => this.calls.length >= w.count)) waiter.resolve();
    this.#waiters = this.#waiters.filter((w) => this.calls.length < w.count);
    const reply = this.#replies.get(path) ?? { body: JSON.stringify({ path }) };
    const fault = this.#fault;
    const gate = this.#gate;
    if (gate) {
      const aborted = new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
      );
      aborted.catch(() => {});
      await Promise.race([gate, aborted]);
    }
    if (fault && "error" in fault) throw fault.error;
    if (fault)
      return new Response(JSON.stringify({ error: "fake origin failure" }), { status: fault.status });
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "Cache-Control": "public, max-age=30",
      ...reply.headers,
    };
    if (reply.version !== undefined) headers["X-Origin-Version"] = String(reply.version);
    return new Response(reply.body, { status: reply.status ?? 200, headers });
  };
}

export type StoreMethod = "get" | "getMany" | "readListings" | "fill" | "readLog" | "tagVersions";
/** pass: the real store; fail: rejects at once; hang: waits for `releaseHung()`, then the real store. */
export type ChaosMode = "pass" | "fail" | "hang";

/** The real L2 store behind a switch per method, counting every call the engine makes. */
export class ChaosStore implements L2Store {
  readonly calls: Record<StoreMethod, number> = {
    get: 0,
    getMany: 0,
    readListings: 0,
    fill: 0,
    readLog: 0,
    tagVersions: 0,
  };
  readonly modes: Record<StoreMethod, ChaosMode> = {
    get: "pass",
    getMany: "pass",
    readListings: "pass",
    fill: "pass",
    readLog: "pass",
    tagVersions: "pass",
  };
  #hung = deferred();

  constructor(readonly inner: L2Store) {}

  get total(): number {
    return (
      this.calls.get +
      this.calls.getMany +
      this.calls.readListings +
      this.calls.fill +
      this.calls.readLog +
      this.calls.tagVersions
    );
  }

  /** Every method at once. */
  setAll(mode: ChaosMode): void {
    this.modes.get = mode;
    this.modes.getMany = mode;
    this.modes.readListings = mode;
    this.modes.fill = mode;
    this.modes.readLog = mode;
    this.modes.tagVersions = mode;
  }

  /** Lets every call held by "hang" go on to the real store. */
  releaseHung(): void {
    this.#hung.resolve();
    this.#hung = deferred();
  }

  get(key: string): Promise<L2Record | undefined> {
    return this.#call("get", () => this.inner.get(key));
  }

  getMany(keys: readonly string[]): Promise<Array<StoredBody | undefined>> {
    return this.#call("getMany", () => this.inner.getMany(keys));
  }

  readListings(views: readonly ListingView[]): Promise<ListingViewsRead> {
    return this.#call("readListings", () => this.inner.readListings(views));
  }

  fill(key: string, record: L2Record, options: Parameters<L2Store["fill"]>[2]): Promise<FillOutcome> {
    return this.#call("fill", () => this.inner.fill(key, record, options));
  }

  readLog(cursor: string | undefined, maxEntries: number, epoch?: string): Promise<LogRead> {
    return this.#call("readLog", () => this.inner.readLog(cursor, maxEntries, epoch));
  }

  tagVersions(tags: readonly string[]): Promise<Array<string | undefined>> {
    return this.#call("tagVersions", () => this.inner.tagVersions(tags));
  }

  async #call<T>(method: StoreMethod, real: () => Promise<T>): Promise<T> {
    this.calls[method] += 1;
    const mode = this.modes[method];
    if (mode === "fail") throw new Error(`chaos: Redis ${method} failed`);
    if (mode === "hang") await this.#hung.promise;
    return real();
  }
}

export function route(pattern: string): RouteResolver {
  const resolve = routes[pattern];
  if (!resolve) throw new Error(`no route ${pattern}`);
  return resolve;
}

/** `GET /v1/gpus/:gpuId`: an entity (versioned, not indexed), class gpu. */
export function gpuLookup(keys: Keyspace, gpuId: string): CacheLookup {
  return route("/v1/gpus/:gpuId")({ gpuId }, {}, keys);
}

/** `GET /v1/gpus?…`: an aggregate (indexed, version 0), class availability. */
export function listingLookup(keys: Keyspace, query: Record<string, string> = {}): CacheLookup {
  return route("/v1/gpus")({}, query, keys);
}

/** A lookup with whatever tags a test needs (including none). */
export function customLookup(
  keys: Keyspace,
  name: string,
  options: { tags?: readonly string[]; dataClass?: DataClassName; indexed?: boolean } = {},
): CacheLookup {
  const key = `/test/${name}`;
  return {
    key,
    l2Key: keys.response(key),
    indexed: options.indexed ?? false,
    dataClass: options.dataClass ?? "gpu",
    tags: options.tags ?? [`test:${name}`],
    originPath: key,
  };
}

/** Engine options to override; `fetchOrigin` replaces the fake origin (e.g. with the real one). */
export type HarnessOptions = Partial<Omit<TieredCacheOptions, "l2" | "clock">> & {
  /** Part of the key prefix, for reading Redis by eye. */
  readonly label?: string;
  /** Builds the Upstash client (e.g. pointed at a closed port); defaults to the harness bridge. */
  readonly redis?: Redis;
};

export interface Harness {
  readonly clock: ManualClock;
  readonly origin: FakeOrigin;
  readonly redis: Redis;
  readonly keys: Keyspace;
  readonly store: ChaosStore;
  readonly cache: TieredCache;
  readonly ctx: WaitUntil;
  /** Work handed to `waitUntil` and not yet drained. */
  readonly pending: Promise<unknown>[];
  /** What the engine logged through `logger.warn` / `logger.error`. */
  readonly logged: unknown[][];
  /** Another isolate: same Redis, prefix, store, origin and clock; its own (empty) L1. */
  newEngine(overrides?: HarnessOptions): TieredCache;
  /** Awaits everything handed to `waitUntil`, including work queued by that work. */
  drain(): Promise<void>;
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const { label = "engine", redis = upstashClient(), ...engineOptions } = options;
  const clock = new ManualClock();
  const origin = new FakeOrigin();
  const keys = createKeyspace(uniquePrefix(label));
  const store = new ChaosStore(createRedisL2Store(redis, keys));
  const pending: Promise<unknown>[] = [];
  const logged: unknown[][] = [];
  const ctx: WaitUntil = { waitUntil: (promise) => pending.push(promise) };
  const logger = {
    warn: (...args: unknown[]) => logged.push(args),
    error: (...args: unknown[]) => logged.push(args),
  };
  const build = (overrides: HarnessOptions = {}) =>
    new TieredCache({
      l2: store,
      fetchOrigin: origin.fetch,
      clock,
      logger,
      policies: DEFAULT_DATA_CLASS_POLICIES,
      l1MaxBytes: 4 * 1024 * 1024,
      l1MaxEntries: 1_000,
      syncIntervalMs: 500,
      l2SoftTimeoutMs: 1_000,
      l2HardTimeoutMs: 3_000,
      originTimeoutMs: 3_000,
      ...engineOptions,
      ...overrides,
    });
  return {
    clock,
    origin,
    redis,
    keys,
    store,
    cache: build(),
    ctx,
    pending,
    logged,
    newEngine: build,
    async drain() {
      while (pending.length > 0) await Promise.allSettled(pending.splice(0));
    },
  };
}
