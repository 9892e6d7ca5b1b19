/**
 * Push, not purge, for entities: a log entry carries the records its event wrote
 * (core/invalidation-log.ts), and the sync that reads it replaces the L1 copies in place, so the
 * next read is an L1 hit on the new record, with no Redis read; what it names without a record
 * (derived stats, listings) is still dropped. Written by the real apply-event script.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { strongEtag } from "../../../core/etag";
import { createEventApplier } from "../../../lambdas/events/apply";
import { EventFactory, parsed } from "../../support/event-fixtures";
import { createHarness, customLookup, gpuLookup, LambdaSide, listingLookup } from "./helpers";

const SYNC_INTERVAL_MS = 500;

describe("records pushed in the invalidation log", () => {
  const lambda = new LambdaSide();

  async function setup(label: string) {
    const h = createHarness({ label, syncIntervalMs: SYNC_INTERVAL_MS });
    await lambda.appendLog(h.keys, ["seed"]);
    await h.cache.get(customLookup(h.keys, "warm-up"), h.ctx);
    await h.drain();
    const applier = createEventApplier(h.redis, h.keys, h.clock, DEFAULT_DATA_CLASS_POLICIES);
    return { h, applier, factory: new EventFactory() };
  }

  it("a booking replaces the GPU's L1 copy in place: the next read is an L1 hit on the new record, no Redis read", async () => {
    const { h, applier, factory } = await setup("push-gpu");
    const { change, raw } = factory.bookingCreated();
    const gpu = change.gpu;
    const lookup = gpuLookup(h.keys, gpu.gpuId);
    const listing = listingLookup(h.keys, { region: gpu.region });
    h.origin.set(
      lookup.originPath,
      { ...gpu, status: "available", version: gpu.version - 1 },
      { version: gpu.version - 1 },
    );
    h.origin.set(listing.originPath, { items: [] });
    await h.cache.get(lookup, h.ctx);
    await h.cache.get(listing, h.ctx);
    await h.drain();
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L1");

    await applier.apply([parsed(raw)]);
    h.clock.advance(SYNC_INTERVAL_MS);
    const getsBefore = h.store.calls.get;
    const answer = await h.cache.get(lookup, h.ctx);

    expect(answer.source).toBe("L1");
    expect(JSON.parse(answer.body)).toEqual(gpu);
    expect(answer.etag).toBe(await strongEtag(JSON.stringify(gpu)));
    expect(h.store.calls.get).toBe(getsBefore);
    expect(h.cache.stats.l1Evictions.replacedInPlace).toBe(1);
    // The listing names the booking's tags without a record of its own: dropped, as before.
    expect((await h.cache.get(listing, h.ctx)).source).not.toBe("L1");
  });

  it("a later entry naming the tag without a record undoes the push (an operator's purge wins)", async () => {
    const { h, applier, factory } = await setup("push-undone");
    const { change, raw } = factory.bookingCreated();
    const lookup = gpuLookup(h.keys, change.gpu.gpuId);
    h.origin.set(lookup.originPath, { old: true }, { version: 1 });
    await h.cache.get(lookup, h.ctx);
    await h.drain();

    await applier.apply([parsed(raw)]);
    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);

    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L2");
    expect(h.cache.stats.l1Evictions.replacedInPlace).toBe(0);
  });
});
