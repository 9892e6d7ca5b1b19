/**
 * docs/architecture.md "Failure behaviour" for Redis: a failing or slow Redis never fails a read
 * while the origin (or a stale copy) can answer; a circuit breaker stops calling it
 * after a threshold and probes once per cool-down; soft and hard timeouts bound every
 * wait. The only real waits in this suite are the short timeouts (≤ 100 ms).
 */
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { createHarness, gpuLookup, type Harness, LambdaSide, upstashClient } from "./helpers";

const GPU_POLICY = DEFAULT_DATA_CLASS_POLICIES.gpu;
const BREAKER = { failureThreshold: 3, cooldownMs: 5_000 };
const lambda = new LambdaSide();
afterAll(() => lambda.close());

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function getAll(h: Harness, ids: string[]) {
  const answers = [];
  for (const id of ids) {
    answers.push(await h.cache.get(gpuLookup(h.keys, id), h.ctx));
    await h.drain();
  }
  return answers;
}

describe("Redis failing", () => {
  it("falls through to the origin when the REST endpoint refuses connections, and opens the circuit", async () => {
    const redis = upstashClient(`http://127.0.0.1:${await closedPort()}`);
    const h = createHarness({ label: "closed-port", redis, breaker: BREAKER });

    const answers = await getAll(h, ["gpu-cp-1", "gpu-cp-2"]);
    expect(answers.map((answer) => answer.source)).toEqual(["ORIGIN", "ORIGIN"]);
    // sync (1) + read (2) for the first get, read (3) for the second: the threshold.
    expect(h.cache.stats.redisErrors).toBe(3);
    expect(h.cache.health.circuit).toBe("open");
    expect(h.cache.health.lastSyncError).toBeDefined();

    const commands = h.cache.stats.redisCommands;
    const calls = h.store.total;
    const third = await h.cache.get(gpuLookup(h.keys, "gpu-cp-3"), h.ctx);
    await h.drain();
    expect(third.source).toBe("ORIGIN");
    expect(h.cache.stats.redisCommands).toBe(commands);
    expect(h.store.total).toBe(calls);
    // Without a cursor (no sync ever succeeded) nothing was ever written to L2.
    expect(h.store.calls.fill).toBe(0);
  });

  it("opens after the threshold, stops calling the store, and lets one probe through after the cool-down", async () => {
    const h = createHarness({ label: "breaker", breaker: BREAKER });
    await getAll(h, ["gpu-br-0"]); // healthy: the sync sets the cursor, the fill is written
    expect(h.store.calls).toEqual({
      readLog: 1,
      get: 1,
      getMany: 0,
      readListings: 0,
      fill: 1,
      tagVersions: 0,
    });

    h.store.setAll("fail");
    // gpu-br-1: the read fails (1), the fill after the origin answer fails (2);
    // gpu-br-2: the read fails (3) → open, so no fill is even tried.
    const failing = await getAll(h, ["gpu-br-1", "gpu-br-2"]);
    expect(failing.map((answer) => answer.source)).toEqual(["ORIGIN", "ORIGIN"]);
    expect(h.store.calls).toEqual({
      readLog: 1,
      get: 3,
      getMany: 0,
      readListings: 0,
      fill: 2,
      tagVersions: 0,
    });
    expect(h.cache.health.circuit).toBe("open");

    // Open: the store is not called at all, not even by a due sync.
    h.clock.advance(BREAKER.cooldownMs - 1);
    const whileOpen = await getAll(h, ["gpu-br-3", "gpu-br-4", "gpu-br-0"]);
    expect(whileOpen.map((answer) => answer.source)).toEqual(["ORIGIN", "ORIGIN", "L1"]);
    expect(h.store.total).toBe(6);

    // Cool-down over, Redis still down: exactly one probe (the due sync), which fails and re-opens.
    h.clock.advance(1);
    const probeFailed = await h.cache.get(gpuLookup(h.keys, "gpu-br-5"), h.ctx);
    await h.drain();
    expect(probeFailed.source).toBe("ORIGIN");
    expect(h.store.calls).toEqual({
      readLog: 2,
      get: 3,
      getMany: 0,
      readListings: 0,
      fill: 2,
      tagVersions: 0,
    });
    expect(h.cache.health.circuit).toBe("open");
    await getAll(h, ["gpu-br-6"]);
    expect(h.store.total).toBe(7);

    // Redis back; after another cool-down the probe succeeds and closes the circuit.
    h.store.setAll("pass");
    h.clock.advance(BREAKER.cooldownMs);
    const recovered = await h.cache.get(gpuLookup(h.keys, "gpu-br-7"), h.ctx);
    await h.drain();
    expect(recovered.source).toBe("ORIGIN");
    expect(h.cache.health.circuit).toBe("closed");
    expect(h.cache.health.lastSyncError).toBeUndefined();
    // The successful probe closed the circuit, so the same request's read and fill went out too.
    expect(h.store.calls).toEqual({
      readLog: 3,
      get: 4,
      getMany: 0,
      readListings: 0,
      fill: 3,
      tagVersions: 0,
    });
    expect(await h.redis.exists(gpuLookup(h.keys, "gpu-br-7").l2Key)).toBe(1);
  });

  it("serves L1 copies while Redis is down, and STALE 'error' once the origin fails too", async () => {
    const h = createHarness({ label: "down-l1", breaker: BREAKER });
    const lookup = gpuLookup(h.keys, "gpu-down-1");
    const body = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    const filledAt = h.clock.now();
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    h.store.setAll("fail");
    h.clock.advance(1_000);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body });
    h.origin.failWith(503);
    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + 10);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "STALE", staleReason: "error", body });
  });
});

describe("timeouts (real timers, short)", () => {
  it("answers from the origin when the L2 read never returns, bounded by the hard timeout", async () => {
    const h = createHarness({ label: "hard-timeout", l2SoftTimeoutMs: 20, l2HardTimeoutMs: 50 });
    const lookup = gpuLookup(h.keys, "gpu-hang-1");
    const body = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    h.store.modes.get = "hang";
    try {
      const started = performance.now();
      const answer = await h.cache.get(lookup, h.ctx);
      const elapsed = performance.now() - started;
      expect(answer).toMatchObject({ source: "ORIGIN", body });
      expect(elapsed).toBeGreaterThanOrEqual(40);
      expect(elapsed).toBeLessThan(1_000);
      expect(h.cache.stats.redisErrors).toBe(1);
      // A timeout is expected trouble, not logged as a failure.
      expect(h.logged).toEqual([]);
    } finally {
      h.store.releaseHung();
      await h.drain();
    }
  });

  it("answers from the origin when the invalidation-log read never returns", async () => {
    const h = createHarness({ label: "sync-timeout", l2SoftTimeoutMs: 20, l2HardTimeoutMs: 50 });
    const lookup = gpuLookup(h.keys, "gpu-hang-2");
    h.store.modes.readLog = "hang";
    try {
      const started = performance.now();
      const answer = await h.cache.get(lookup, h.ctx);
      expect(answer.source).toBe("ORIGIN");
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(h.cache.health.lastSyncError).toMatch(/took longer than 50 ms/);
    } finally {
      h.store.releaseHung();
      await h.drain();
    }
  });

  it("serves a stale L1 copy at the soft timeout while the load goes on in the background", async () => {
    const h = createHarness({ label: "soft-timeout", l2SoftTimeoutMs: 20, l2HardTimeoutMs: 100 });
    const lookup = gpuLookup(h.keys, "gpu-soft-1");
    const oldBody = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    const filledAt = h.clock.now();
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    // Past l1MaxMs, within stale-if-error: a usable copy, but not one served without asking L2.
    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + 1);
    const newBody = '{"v":2}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
    h.store.modes.get = "hang";
    const started = performance.now();
    const answer = await h.cache.get(lookup, h.ctx);
    const elapsed = performance.now() - started;
    expect(answer).toMatchObject({ source: "STALE", staleReason: "error", body: oldBody });
    expect(elapsed).toBeLessThan(1_000);
    // The load is still waiting on L2 (nothing has timed out), handed to waitUntil.
    expect(h.cache.stats.redisErrors).toBe(0);
    expect(h.pending.length).toBeGreaterThan(0);

    // L2 answers late (before the hard timeout): the background load refills L1.
    h.store.modes.get = "pass";
    h.store.releaseHung();
    await h.drain();
    expect(h.origin.count()).toBe(1);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: newBody });
  });

  it("with L2 hung past the hard timeout too, the background load falls back to the origin", async () => {
    const h = createHarness({ label: "soft-hard", l2SoftTimeoutMs: 20, l2HardTimeoutMs: 60 });
    const lookup = gpuLookup(h.keys, "gpu-soft-2");
    const oldBody = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    const filledAt = h.clock.now();
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    h.clock.set(filledAt + GPU_POLICY.l1MaxMs + 1);
    const newBody = h.origin.set(lookup.originPath, { v: 2 }, { version: 2 });
    h.store.modes.get = "hang";
    try {
      const answer = await h.cache.get(lookup, h.ctx);
      expect(answer).toMatchObject({ source: "STALE", body: oldBody });
      expect(h.origin.count()).toBe(1); // answered before the hard timeout sent the load to the origin
      await h.drain();
      expect(h.origin.count()).toBe(2);
      expect(h.cache.stats.redisErrors).toBe(1);
      expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: newBody });
    } finally {
      h.store.releaseHung();
      await h.drain();
    }
  });

  it("gives up on an origin that does not answer within originTimeoutMs", async () => {
    const h = createHarness({ label: "origin-timeout", originTimeoutMs: 50 });
    const lookup = gpuLookup(h.keys, "gpu-slow-origin");
    const release = h.origin.hold();
    try {
      const started = performance.now();
      const error = await h.cache.get(lookup, h.ctx).catch((caught: unknown) => caught);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(String(error)).toMatch(/OriginUnavailableError: origin did not answer within 50 ms/);
    } finally {
      release();
      await h.drain();
    }
  });
});
