/**
 * The Workers Cache purge budget, shared by every invocation of both Lambdas: they are
 * many and short-lived, and Workers Cache counts the account's calls, so the bucket lives
 * in Redis (core/redis/token-bucket-script.ts: one atomic step refills by elapsed time and
 * takes). Time is the injected clock's, passed to the script, never the Redis server's.
 */
import type { Redis } from "@upstash/redis";
import { TOKEN_BUCKET_SCRIPT } from "../../../core/redis/token-bucket-script";
import { type Clock, systemClock } from "../../../core/time/clock";

export interface TokenGrant {
  /** Tokens taken: calls that may be sent now. */
  readonly granted: number;
  /** Whole tokens left after this take. */
  readonly remaining: number;
  /** When (the clock's ms) the bucket next holds a whole token; now or earlier when it does. */
  readonly nextTokenAt: number;
}

export interface TokenBucket {
  /** Takes up to `count` tokens (0 only looks). */
  take(count: number): Promise<TokenGrant>;
  /** Gives back tokens taken but not spent (never past the capacity). */
  refund(count: number): Promise<void>;
}

export interface SharedTokenBucketOptions {
  readonly redis: Redis;
  /** core/keys.ts `workersCachePurgeBucket`. */
  readonly key: string;
  readonly capacity: number;
  /** Tokens gained a minute. */
  readonly perMinute: number;
  /** Wall-clock time (default the system clock): every caller's must agree. */
  readonly clock?: Clock;
}

/** Redis did not answer the bucket, or answered something that is not one. */
export class TokenBucketError extends Error {
  override readonly name = "TokenBucketError";
}

/** The script keeps the level in 60,000ths of a token: ARGV stays well inside Lua's exact integers. */
const MAX_CAPACITY = 100_000;
const MAX_PER_MINUTE = 60_000;

export function createSharedTokenBucket(options: SharedTokenBucketOptions): TokenBucket {
  const { redis, key, capacity, perMinute } = options;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY)
    throw new RangeError(`capacity must be 1..${MAX_CAPACITY}, got ${capacity}`);
  if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > MAX_PER_MINUTE)
    throw new RangeError(`perMinute must be 1..${MAX_PER_MINUTE}, got ${perMinute}`);
  const clock = options.clock ?? systemClock;
  const script = redis.createScript<unknown>(TOKEN_BUCKET_SCRIPT);

  const run = async (count: number): Promise<TokenGrant> => {
    let reply: unknown;
    try {
      reply = await script.exec(
        [key],
        [String(Math.floor(clock.now())), String(capacity), String(perMinute), String(count)],
      );
    } catch (error) {
      throw new TokenBucketError(`token bucket ${key} unavailable`, { cause: error });
    }
    const [granted, remaining, nextTokenAt] = Array.isArray(reply) ? reply.map(Number) : [];
    if (![granted, remaining, nextTokenAt].every((value) => Number.isSafeInteger(value)))
      throw new TokenBucketError(`token bucket ${key} answered ${JSON.stringify(reply)}`);
    return { granted: granted as number, remaining: remaining as number, nextTokenAt: nextTokenAt as number };
  };

  return {
    take(count) {
      if (!Number.isInteger(count) || count < 0)
        return Promise.reject(new RangeError(`take needs a whole count of at least 0, got ${count}`));
      return run(count);
    },
    async refund(count) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError(`refund needs a whole count of at least 0, got ${count}`);
      if (count > 0) await run(-count);
    },
  };
}
