/**
 * A Redis that misbehaves on cue: a RedisBackend (dev/bridge/backend.ts) around a real one
 * (the in-process emulator by default), served by the real REST bridge (dev/bridge/app.ts), so
 * the real @upstash/redis client and the real bridge stay in the path. States:
 *   up       every command goes through;
 *   paused   commands wait until the state changes (a stalled server, a long failover);
 *   slow     every command waits `delayMs` on the injected timers first;
 *   failing  every command answers an error reply (a server that is loading, or out of memory);
 *   down     no command is answered: the bridge says 503, as for a refused connection.
 * `restart()` after `kill()` brings it back empty: a fresh backend, as a server without
 * persistence comes back (scripts not loaded either).
 */
import { Redis } from "@upstash/redis";
import type { Timers } from "../../../core/time/clock";
import { createBridgeApp } from "../../../dev/bridge/app";
import {
  type RedisBackend,
  type RedisCommand,
  RedisCommandError,
  type RedisReply,
  RedisUnavailableError,
  type ReplyOutcome,
  type Subscription,
  type SubscriptionEvent,
  type SubscriptionMode,
} from "../../../dev/bridge/backend";
import { createEmulatorBackend } from "../../../dev/bridge/emulator-backend";
import { serveApp } from "../../../dev/support/serve-app";
import { REDIS_CLIENT_OPTIONS } from "../../../workers/index";
import { TEST_BRIDGE_TOKEN } from "../constants";
import { type BusySource, InFlight } from "./virtual-time";

export type RedisCondition =
  | { readonly state: "up" }
  | { readonly state: "paused" }
  | { readonly state: "slow"; readonly delayMs: number }
  | { readonly state: "failing"; readonly error: string }
  | { readonly state: "down" };

/** What a server that is loading its data set answers (a common error reply after a restart). */
export const LOADING_ERROR = "LOADING Redis is loading the dataset in memory";

export interface ChaosRedisOptions {
  /** What `slow` waits on. */
  readonly timers: Timers;
  /** Makes the real backend, at start and at each empty restart (default: a fresh emulator). */
  readonly backend?: () => RedisBackend;
}

export class ChaosRedis implements RedisBackend {
  readonly kind: RedisBackend["kind"];
  /** Commands received, and of those, answered with no reply or an error by a fault. */
  readonly counts = { commands: 0, refused: 0, restarts: 0 };
  readonly #make: () => RedisBackend;
  readonly #timers: Timers;
  #inner: RedisBackend;
  #condition: RedisCondition = { state: "up" };
  #parked = 0;
  #changed: Array<() => void> = [];

  constructor(options: ChaosRedisOptions) {
    this.#make = options.backend ?? (() => createEmulatorBackend());
    this.#timers = options.timers;
    this.#inner = this.#make();
    this.kind = this.#inner.kind;
  }

  get condition(): RedisCondition {
    return this.#condition;
  }

  /** Commands waiting on a fault (paused, or slow and not yet due). */
  get parked(): number {
    return this.#parked;
  }

  up(): void {
    this.#set({ state: "up" });
  }

  pause(): void {
    this.#set({ state: "paused" });
  }

  slow(delayMs: number): void {
    this.#set({ state: "slow", delayMs });
  }

  fail(error: string = LOADING_ERROR): void {
    this.#set({ state: "failing", error });
  }

  /** The server is gone: no command is answered until `restart()`. */
  kill(): void {
    this.#set({ state: "down" });
  }

  /** Back up; `empty` (the default): with a fresh keyspace, as a server without persistence. */
  async restart(options: { empty?: boolean } = {}): Promise<void> {
    if (options.empty ?? true) {
      const old = this.#inner;
      this.#inner = this.#make();
      this.counts.restarts += 1;
      await old.close();
    }
    this.up();
  }

  execute(command: RedisCommand): Promise<RedisReply> {
    return this.#gate((backend) => backend.execute(command));
  }

  pipeline(commands: readonly RedisCommand[]): Promise<ReplyOutcome[]> {
    return this.#gate((backend) => backend.pipeline(commands));
  }

  transaction(commands: readonly RedisCommand[]): Promise<ReplyOutcome[]> {
    return this.#gate((backend) => backend.transaction(commands));
  }

  subscribe(
    mode: SubscriptionMode,
    target: Uint8Array,
    onEvent: (event: SubscriptionEvent) => void,
  ): Promise<Subscription> {
    return this.#gate((backend) => backend.subscribe(mode, target, onEvent));
  }

  async close(): Promise<void> {
    this.#set({ state: "down" });
    await this.#inner.close();
  }

  #set(condition: RedisCondition): void {
    this.#condition = condition;
    const waiting = this.#changed;
    this.#changed = [];
    for (const wake of waiting) wake();
  }

  async #park(until: (wake: () => void) => void): Promise<void> {
    this.#parked += 1;
    try {
      await new Promise<void>((resolve) => until(resolve));
    } finally {
      this.#parked -= 1;
    }
  }

  async #gate<T>(run: (backend: RedisBackend) => Promise<T>): Promise<T> {
    this.counts.commands += 1;
    let delayed = false;
    for (;;) {
      const condition = this.#condition;
      if (condition.state === "paused") {
        await this.#park((wake) => this.#changed.push(wake));
        continue;
      }
      if (condition.state === "down") {
        this.counts.refused += 1;
        throw new RedisUnavailableError(
          "Redis is unavailable: connect ECONNREFUSED (chaos: the server is down)",
        );
      }
      if (condition.state === "failing") {
        this.counts.refused += 1;
        throw new RedisCommandError(condition.error);
      }
      if (condition.state === "slow" && !delayed) {
        delayed = true;
        await this.#park((wake) => {
          this.#timers.setTimeout(wake, condition.delayMs);
        });
        continue;
      }
      return run(this.#inner);
    }
  }
}

export interface ChaosBridge extends BusySource {
  readonly url: string;
  readonly redis: ChaosRedis;
  /** An Upstash client as the Worker builds one (workers/index.ts REDIS_CLIENT_OPTIONS). */
  client(): Redis;
  /** `target` (a store, an applier) with its calls counted, so virtual time waits for them. */
  tracked<T extends object>(target: T): T;
  close(): Promise<void>;
}

/** The real bridge over a ChaosRedis, listening on a free loopback port. */
export async function startChaosBridge(options: ChaosRedisOptions): Promise<ChaosBridge> {
  const redis = new ChaosRedis(options);
  const app = createBridgeApp({ backend: redis, token: TEST_BRIDGE_TOKEN, logger: { error: () => {} } });
  const requests = new InFlight();
  const calls = new InFlight();
  const served = await serveApp({ fetch: (request) => requests.track(Promise.resolve(app.fetch(request))) });
  return {
    name: "redis (chaos bridge)",
    url: served.url,
    redis,
    // A request parked on a fault is waiting for time; any other is real I/O under way.
    busy: () => Math.max(requests.count, calls.count) > redis.parked,
    client: () => new Redis({ url: served.url, token: TEST_BRIDGE_TOKEN, ...REDIS_CLIENT_OPTIONS }),
    tracked: (target) => calls.wrap(target),
    async close() {
      await served.close();
      await redis.close();
    },
  };
}
