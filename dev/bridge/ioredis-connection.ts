/**
 * One ioredis connection of the bridge, reconnecting on the bridge's timers.
 *
 * ioredis would wait between reconnect attempts on the global setTimeout, where a test
 * cannot see or drive the wait. So ioredis gives up after every drop (`retryStrategy`
 * answers null and the connection ends) and this module schedules the next attempt on
 * injected Timers, with ioredis's default delay. Closing cancels a pending attempt, so a
 * closed connection never comes back, whatever state Redis is in.
 */
import { Redis } from "ioredis";
import { systemTimers, type Timers } from "../../core/time/clock";

export interface BridgeConnectionOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Shown by CLIENT LIST, so a person (or a test) can tell the bridge's connections apart. */
  readonly connectionName: string;
  readonly logger: Pick<Console, "warn">;
  readonly timers?: Timers;
}

export interface BridgeConnection {
  readonly redis: Redis;
  /** Connects for the first time; rejects when Redis cannot be reached (later drops reconnect on their own). */
  connect(): Promise<void>;
  /**
   * Ends the connection for good: a pending reconnect is cancelled and none is scheduled
   * again. `graceful` sends QUIT first, so replies already on their way still arrive.
   */
  close(options?: { graceful?: boolean }): Promise<void>;
}

/** The longest wait between reconnect attempts. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

/** ioredis's default retryStrategy: 50 ms more per failed attempt, at most 2 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 50, MAX_RECONNECT_DELAY_MS);
}

export function openBridgeConnection(options: BridgeConnectionOptions): BridgeConnection {
  const { connectionName, logger } = options;
  const timers = options.timers ?? systemTimers;
  const redis = new Redis(options.url, {
    lazyConnect: true,
    connectionName,
    // Fail fast while Redis is down instead of queueing HTTP requests without bound.
    enableOfflineQueue: false,
    // The next attempt is scheduled below, on `timers`.
    retryStrategy: () => null,
  });
  let closed = false;
  let attempts = 0;
  let pending: unknown;

  // ioredis reports every failed reconnect attempt; one line per outage is enough.
  let reported = false;
  redis.on("error", (error: Error) => {
    if (reported) return;
    reported = true;
    logger.warn(
      `upstash bridge: connection ${connectionName} to Redis failed (${error.message}); reconnecting`,
    );
  });
  redis.on("ready", () => {
    reported = false;
    attempts = 0;
  });
  // "end": ioredis will not try again by itself. Unless closed, try again after a delay.
  redis.on("end", () => {
    if (closed || pending !== undefined) return;
    attempts += 1;
    pending = timers.setTimeout(() => {
      pending = undefined;
      if (closed) return;
      // A failed attempt ends the connection again, which schedules the next one.
      redis.connect().catch(() => {});
    }, reconnectDelayMs(attempts));
  });

  return {
    redis,
    connect: () => redis.connect(),
    async close({ graceful = false } = {}) {
      closed = true;
      if (pending !== undefined) timers.clearTimeout(pending);
      pending = undefined;
      // Without an offline queue, QUIT is refused while Redis is unreachable; disconnect()
      // then closes the socket (and is a no-op after a successful QUIT).
      if (graceful) await redis.quit().catch(() => {});
      redis.disconnect();
    },
  };
}
