/**
 * Redis data loss, the hardening issue's case, on one isolate's engine over the real client and
 * bridge (test/chaos/harness.ts): a GPU is cached, an event E1 for it is acknowledged, Redis is
 * killed and comes back empty, and another event E2 lands before the isolate reads the log again.
 * Its cursor is then below the new log's end, so a read of the log from it finds only E2: the
 * engine must see that this is another log (core/redis/read-log-script.ts, the log's epoch),
 * clear L1, count and log the reset, and answer the GPU as E1 left it within the freshness bound,
 * not at its pre-E1 version until L1's own expiry (29 s later for the gpu class). Also from a
 * cursor of 0-0 (the log was empty at the isolate's first read) and with a log still empty after
 * the restart; and a fill that began before the reset does not put its pre-E1 copy into the new Redis.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, STALENESS_BOUND_MS, startChaosWorld, WORKER_DEFAULTS } from "./harness";

const worlds: ChaosWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.close();
});

async function world(label: string): Promise<ChaosWorld> {
  const started = await startChaosWorld(label);
  worlds.push(started);
  return started;
}

const INTERVAL = WORKER_DEFAULTS.syncIntervalMs;

describe("Redis comes back empty", () => {
  it.for([
    { cursor: "an entry's id", seeded: true, secondEvent: true },
    { cursor: "0-0 (the log was empty at the first read)", seeded: false, secondEvent: true },
    { cursor: "an entry's id", seeded: true, secondEvent: false },
    { cursor: "0-0 (the log was empty at the first read)", seeded: false, secondEvent: false },
  ])(
    "cursor $cursor, another event lands first: $secondEvent · L1 is cleared, the GPU shows E1 within the bound",
    async ({ seeded, secondEvent }) => {
      const w = await world("data-loss");
      const [gpu, other, seed] = w.gpuIds;
      if (!gpu || !other || !seed) throw new Error("not enough GPUs");
      if (seeded) await w.time.run(w.change(seed).delivered);

      // Cache the GPU: the first read learns the cursor, fills L1 and L2 from the origin.
      const cached = await w.read(gpu);
      expect(cached).toMatchObject({ status: 200, source: "ORIGIN" });
      await w.settle();
      if (seeded) expect(w.cache.health.cursor).not.toBe("0-0");
      else expect(w.cache.health.cursor).toBe("0-0");
      await w.time.advance(100);
      expect(await w.read(gpu)).toMatchObject({ source: "L1", version: cached.version });

      // E1 for the GPU is acknowledged; no read comes before Redis goes.
      const e1 = await w.time.run(w.change(gpu).delivered);
      if (!e1.ok) throw e1.error;
      expect(e1.value.version).toBeGreaterThan(cached.version ?? 0);
      w.bridge.redis.kill();
      await w.bridge.redis.restart();
      if (secondEvent) {
        const e2 = await w.time.run(w.change(other).delivered);
        expect(e2.ok).toBe(true);
      }

      // The first read once the sync is due: E1's version, not the pre-E1 copy L1 held.
      await w.time.advanceTo(e1.value.at + INTERVAL);
      const after = await w.read(gpu);
      expect(after).toMatchObject({ status: 200, version: e1.value.version });
      expect(after.at - e1.value.at).toBeLessThanOrEqual(STALENESS_BOUND_MS);
      expect(w.cache.stats.logResets).toBe(1);
      expect(w.cache.stats.l1Evictions.clears).toBeGreaterThanOrEqual(1);
      expect(w.logged.filter((line) => line.includes("invalidation log reset"))).toHaveLength(1);

      // And it goes on in the new log: the next event for the GPU is seen like any other.
      const e3 = await w.time.run(w.change(gpu).delivered);
      if (!e3.ok) throw e3.error;
      await w.time.advanceTo(e3.value.at + INTERVAL);
      expect(await w.read(gpu)).toMatchObject({ status: 200, version: e3.value.version });
      expect(w.cache.stats.logResets).toBe(1);
    },
  );

  it("a fill that began before the reset is refused: its pre-E1 origin copy never reaches the new Redis", async () => {
    const w = await world("data-loss-fill");
    const [gpu, other] = w.gpuIds;
    if (!gpu || !other) throw new Error("not enough GPUs");
    // The isolate has read the (empty) log: its cursor is 0-0. The origin answers slowly.
    await w.read(other);
    await w.settle();
    w.origin.slow(3_000);
    await w.time.advance(INTERVAL);
    const fills: Promise<unknown>[] = [];
    const reading = w.cache.get(w.lookup(gpu), { waitUntil: (work) => fills.push(work) });

    // While the origin's pre-E1 answer is on its way: E1, Redis lost, E2 first.
    await w.time.advance(1_000);
    const e1 = w.change(gpu);
    expect((await w.time.run(e1.delivered)).ok).toBe(true);
    w.bridge.redis.kill();
    await w.bridge.redis.restart();
    expect((await w.time.run(w.change(other).delivered)).ok).toBe(true);
    const answered = await w.time.run(reading);
    if (!answered.ok) throw answered.error;
    const preE1 = JSON.parse(answered.value.body) as { version: number };
    expect(preE1.version).toBeLessThan(e1.raw.version);
    w.origin.up();
    await w.time.run(Promise.all(fills));

    expect(w.cache.stats.fillsRefused.raced).toBe(1);
    expect(await w.bridge.client().exists(w.keys.gpu(gpu))).toBe(0);
    // After the sync finds the reset, the GPU is read from the origin again: E1's version.
    await w.time.advance(INTERVAL);
    expect(await w.read(gpu)).toMatchObject({ status: 200, version: e1.raw.version });
  });
});
