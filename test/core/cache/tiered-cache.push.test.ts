/**
 * Push, not purge, for entities: a log entry carries the records its event wrote
 * (core/invalidation-log.ts), and the sync that reads it replaces the L1 copies in place, so the
 * next read is an L1 hit on the new record, with no Redis read; what it names without a record
 * (derived stats, listings) is still dropped. Written by the real apply-event script.
 */
import { describe, expect, it } from "vitest";
import type { CacheLookup } from "../../../core/cache/tiered-cache";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import { strongEtag } from "../../../core/etag";
import { warmListingViews } from "../../../core/views/warm-listing-views";
import { createOriginApp } from "../../../dev/origin/app";
import { createEventApplier } from "../../../lambdas/events/apply";
import { type RouteResolver, routes } from "../../../workers/routes";
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

    // Not replaced from the entry: dropped, then re-read from Redis by the sync (it was in use).
    const answer = await h.cache.get(lookup, h.ctx);
    expect(h.cache.stats.l1Evictions.replacedInPlace).toBe(0);
    expect(h.cache.stats.recordsRefreshed).toBe(1);
    expect(JSON.parse(answer.body)).toEqual(change.gpu);
  });

  it("an entity dropped while in use is re-read by the sync; one not used within its fresh window is not", async () => {
    const { h, factory } = await setup("records");
    const [hot, cold] = [gpuLookup(h.keys, "gpu-hot"), gpuLookup(h.keys, "gpu-cold")];
    for (const lookup of [cold, hot]) h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    await h.cache.get(cold, h.ctx);
    h.clock.advance(DEFAULT_DATA_CLASS_POLICIES.gpu.l1FreshMs);
    await h.cache.get(hot, h.ctx);
    await h.drain();
    expect((await h.cache.get(hot, h.ctx)).source).toBe("L1");
    void factory;
    for (const lookup of [hot, cold]) {
      await lambda.writeRecord(lookup.l2Key, { version: 2, body: '{"v":2}', tags: lookup.tags, storedAt: 0 });
    }
    await lambda.appendLog(h.keys, [...hot.tags, ...cold.tags]);
    h.clock.advance(SYNC_INTERVAL_MS);
    const before = h.store.calls.getMany;

    expect(await h.cache.get(hot, h.ctx)).toMatchObject({ source: "L1", body: '{"v":2}' });
    expect(h.store.calls.getMany - before).toBe(1);
    expect(h.cache.stats.recordsRefreshed).toBe(1);
    expect(await h.cache.get(cold, h.ctx)).toMatchObject({ source: "L2", body: '{"v":2}' });
  });
});

describe("listings a sync drops are re-read from their views in one call", () => {
  const lambda = new LambdaSide();

  it("a booking costs one Redis call for the listings in use; a cold one waits for its next request", async () => {
    const h = createHarness({ label: "refresh" });
    const factory = new EventFactory();
    const origin = createOriginApp({ store: factory.store });
    await warmListingViews({
      redis: h.redis,
      keys: h.keys,
      fetchOrigin: async (path) => origin.request(path),
      clock: h.clock,
      policies: DEFAULT_DATA_CLASS_POLICIES,
    });
    await lambda.appendLog(h.keys, ["seed"]);
    await h.cache.get(customLookup(h.keys, "warm-up"), h.ctx);
    const { change, raw } = factory.bookingCreated();
    const { region, gpuType } = change.gpu;
    const listing = routes["/v1/gpus"] as RouteResolver;
    const lookups = [
      listing({}, { region }, h.keys),
      listing({}, { type: gpuType, status: "available", sort: "price" }, h.keys),
      listing({}, { status: "busy" }, h.keys),
    ];
    const [hot1, hot2, cold] = lookups as [CacheLookup, CacheLookup, CacheLookup];
    expect((await h.cache.get(cold, h.ctx)).source).toBe("L2");
    h.clock.advance(DEFAULT_DATA_CLASS_POLICIES.availability.l1FreshMs + 1);
    // Past the cold one's fresh window: the two hot ones are read again (and fresh in L1).
    for (const lookup of [hot1, hot2]) await h.cache.get(lookup, h.ctx);
    for (const lookup of [hot1, hot2]) expect((await h.cache.get(lookup, h.ctx)).source).toBe("L1");
    await h.drain();

    const applier = createEventApplier(h.redis, h.keys, h.clock, DEFAULT_DATA_CLASS_POLICIES);
    await applier.apply([parsed(raw)]);
    h.clock.advance(500);
    const before = h.store.calls.readListings;
    const answers = [];
    for (const lookup of [hot1, hot2]) answers.push(await h.cache.get(lookup, h.ctx));

    // One call re-read both during the sync; both now answer from L1, with the booking in them.
    expect(h.store.calls.readListings - before).toBe(1);
    expect(answers.map((answer) => answer.source)).toEqual(["L1", "L1"]);
    expect(h.cache.stats.viewReads.refreshed).toBe(2);
    const inRegion = JSON.parse(answers[0]?.body ?? "{}") as {
      items: Array<{ gpuId: string; status: string }>;
    };
    expect(inRegion).toEqual(JSON.parse(await (await origin.request(hot1.originPath)).text()));
    const available = JSON.parse(answers[1]?.body ?? "{}") as { items: Array<{ gpuId: string }> };
    expect(available.items.map((item) => item.gpuId)).not.toContain(change.gpu.gpuId);
    // The cold one was dropped, not re-read: its next request reads its view itself.
    expect((await h.cache.get(cold, h.ctx)).source).toBe("L2");
    expect(h.store.calls.readListings - before).toBe(2);
  });
});
