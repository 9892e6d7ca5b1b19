/**
 * `TieredCache.get` with a sync token (docs/read-your-own-writes.md) against real Redis, on the
 * manual clock set to wall time (a token's milliseconds are Redis's clock): two engines with a
 * long interval both keep the old body without the token and show the new one with it, a token at
 * the cursor sends nothing, and concurrent requests carrying tokens share one log read.
 */
import { afterAll, describe, expect, it } from "vitest";
import { parseSyncToken } from "../../../core/cache/log-sync";
import { createHarness, gpuLookup, LambdaSide } from "./helpers";

const LONG_INTERVAL_MS = 600_000;
const lambda = new LambdaSide();
afterAll(() => lambda.close());

function harnessAtWallTime(label: string) {
  const h = createHarness({ label, syncIntervalMs: LONG_INTERVAL_MS });
  h.clock.set(Date.now());
  return h;
}

/** The event Lambda's step for a GPU: the new record, then the log entry; its id is the token. */
async function writeGpu(h: ReturnType<typeof harnessAtWallTime>, gpuId: string, body: string) {
  const lookup = gpuLookup(h.keys, gpuId);
  await lambda.writeRecord(lookup.l2Key, { version: 2, body, tags: lookup.tags, storedAt: Date.now() });
  const id = await lambda.appendLog(h.keys, lookup.tags, { at: Date.now() });
  h.clock.set(Math.max(h.clock.now(), Date.now()));
  return parseSyncToken(id, h.clock.now());
}

describe("TieredCache.get with a sync token", () => {
  it("a token past the cursor syncs first in every engine; without it L1 answers the old body", async () => {
    const h = harnessAtWallTime("token-two-engines");
    const engines = [h.cache, h.newEngine()];
    const lookup = gpuLookup(h.keys, "gpu-token-1");
    const oldBody = h.origin.set(
      lookup.originPath,
      { gpuId: "gpu-token-1", status: "available" },
      { version: 1 },
    );
    for (const engine of engines) {
      await engine.get(lookup, h.ctx);
      await h.drain();
      expect(await engine.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: oldBody });
    }

    const newBody = '{"gpuId":"gpu-token-1","status":"busy"}';
    const token = await writeGpu(h, "gpu-token-1", newBody);
    for (const engine of engines) {
      const reads = h.store.calls.readLog;
      expect(await engine.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: oldBody });
      expect(h.store.calls.readLog).toBe(reads);

      const synced = await engine.get(lookup, h.ctx, { syncToken: token });
      // The forced sync dropped the copy in use and re-read its record: L1, already the new body.
      expect(synced).toMatchObject({ source: "L1", body: newBody });
      expect(synced.timings[0]?.tier).toBe("sync");
      expect(h.store.calls.readLog).toBe(reads + 1);
      expect(engine.health.cursor).toBe(token.id);

      // At the cursor: no read, no await on the log.
      const again = await engine.get(lookup, h.ctx, { syncToken: token });
      expect(again).toMatchObject({ source: "L1", body: newBody });
      expect(again.timings.map((timing) => timing.tier)).toEqual(["l1"]);
      expect(h.store.calls.readLog).toBe(reads + 1);
    }
  });

  it("concurrent requests carrying tokens share one log read", async () => {
    const h = harnessAtWallTime("token-shared");
    const lookups = ["gpu-token-2", "gpu-token-3"].map((gpuId) => gpuLookup(h.keys, gpuId));
    for (const lookup of lookups) h.origin.set(lookup.originPath, { gpuId: lookup.key }, { version: 1 });
    for (const lookup of lookups) await h.cache.get(lookup, h.ctx);
    await h.drain();

    const token = await writeGpu(h, "gpu-token-2", '{"gpuId":"gpu-token-2","status":"busy"}');
    const reads = h.store.calls.readLog;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        h.cache.get(lookups[index % 2] as (typeof lookups)[number], h.ctx, { syncToken: token }),
      ),
    );
    expect(h.store.calls.readLog).toBe(reads + 1);
    expect(answers.filter((answer) => answer.body.includes("busy"))).toHaveLength(4);
  });
});
