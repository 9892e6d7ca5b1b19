/**
 * The shared Workers Cache purge bucket (lambdas/purge/workers-cache/token-bucket.ts over
 * core/redis/token-bucket-script.ts) over every backend (the real redis-server and the
 * emulator), each through its bridge with the real @upstash/redis client, as both Lambdas
 * run it. Time is a manual clock passed to the script as `now`, so refills are tested by
 * moving it, never by sleeping.
 */
import { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { createKeyspace } from "../../../../core/keys";
import {
  createSharedTokenBucket,
  TokenBucketError,
  WORKERS_CACHE_DEFAULTS,
} from "../../../../lambdas/purge/workers-cache";
import { ManualClock } from "../../../support/manual-clock";
import { BACKENDS, upstashClient, useBackend } from "../../../support/redis";

const START = Date.parse("2026-11-01T00:00:00Z");

describe.for(BACKENDS)("shared token bucket · $name", (backend) => {
  const sides = useBackend(backend);

  function setup(label: string, options: { capacity?: number; perMinute?: number } = {}) {
    const redis = sides.redis;
    const key = createKeyspace(sides.prefix(label)).workersCachePurgeBucket;
    const clock = new ManualClock(START);
    const bucket = (client: Redis = redis) =>
      createSharedTokenBucket({
        redis: client,
        key,
        capacity: options.capacity ?? WORKERS_CACHE_DEFAULTS.bucketCapacity,
        perMinute: options.perMinute ?? WORKERS_CACHE_DEFAULTS.bucketPerMinute,
        clock,
      });
    return { redis, key, clock, bucket };
  }

  it("starts full: grants up to its capacity, then nothing, and says when the next token comes", async () => {
    const { bucket, clock } = setup("bucket-full");
    const shared = bucket();
    expect(await shared.take(10)).toEqual({ granted: 10, remaining: 15, nextTokenAt: clock.now() });
    expect(await shared.take(30)).toEqual({ granted: 15, remaining: 0, nextTokenAt: clock.now() + 12_000 });
    expect(await shared.take(1)).toEqual({ granted: 0, remaining: 0, nextTokenAt: clock.now() + 12_000 });
  });

  it("refills by the clock it is given (5 a minute: one every 12 s), never past its capacity", async () => {
    const { bucket, clock } = setup("bucket-refill");
    const shared = bucket();
    await shared.take(25);
    clock.advance(11_999);
    expect(await shared.take(1)).toMatchObject({ granted: 0, nextTokenAt: START + 12_000 });
    clock.advance(1);
    expect(await shared.take(5)).toMatchObject({ granted: 1, remaining: 0, nextTokenAt: START + 24_000 });
    clock.advance(60_000);
    expect(await shared.take(25)).toMatchObject({ granted: 5 });
    // A fraction of a token is kept: 6 s then 6 s more make one.
    clock.advance(6_000);
    expect((await shared.take(1)).granted).toBe(0);
    clock.advance(6_000);
    expect((await shared.take(1)).granted).toBe(1);
    clock.advance(3_600_000);
    expect(await shared.take(100)).toMatchObject({ granted: 25, remaining: 0 });
  });

  it("is one bucket for every client of the key, also under concurrent takes", async () => {
    const { bucket } = setup("bucket-shared");
    const lambdas = Array.from({ length: 6 }, () => bucket(upstashClient(backend.bridgeUrl)));
    const grants = await Promise.all(
      Array.from({ length: 40 }, (_, index) => lambdas[index % lambdas.length]?.take(1)),
    );
    expect(grants.reduce((sum, grant) => sum + (grant?.granted ?? 0), 0)).toBe(25);
  });

  it("takes back what is refunded, up to its capacity, and forgets a full bucket", async () => {
    const { bucket, redis, key } = setup("bucket-refund");
    const shared = bucket();
    await shared.take(20);
    await shared.refund(3);
    expect((await shared.take(0)).remaining).toBe(8);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    await shared.refund(100);
    expect((await shared.take(0)).remaining).toBe(25);
    // Full is the same as absent: nothing is left behind in Redis.
    expect(await redis.exists(key)).toBe(0);
  });

  it("mints nothing for a caller whose clock is behind the last one's", async () => {
    const { key, redis } = setup("bucket-skew");
    const ahead = new ManualClock(START + 60_000);
    const behind = new ManualClock(START);
    const make = (clock: ManualClock) =>
      createSharedTokenBucket({ redis, key, capacity: 25, perMinute: 5, clock });
    await make(ahead).take(25);
    expect((await make(behind).take(1)).granted).toBe(0);
    behind.advance(60_000 + 12_000);
    expect((await make(behind).take(5)).granted).toBe(1);
  });
});

describe("shared token bucket, whatever the backend", () => {
  it("fails with a TokenBucketError when Redis cannot be reached, and refuses bad counts", async () => {
    const unreachable = new Redis({
      url: "http://127.0.0.1:1",
      token: "t",
      retry: false,
      enableTelemetry: false,
    });
    const shared = createSharedTokenBucket({ redis: unreachable, key: "k", capacity: 25, perMinute: 5 });
    await expect(shared.take(1)).rejects.toBeInstanceOf(TokenBucketError);
    await expect(shared.take(-1)).rejects.toBeInstanceOf(RangeError);
    expect(() =>
      createSharedTokenBucket({ redis: unreachable, key: "k", capacity: 0, perMinute: 5 }),
    ).toThrow(RangeError);
  });
});
