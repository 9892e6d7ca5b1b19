/**
 * The freshness promise (docs/architecture.md "Freshness protocol"), deterministic on the manual
 * clock against real Redis: an L1 entry named by an invalidation-log entry is never
 * served once syncIntervalMs has passed since the last sync began; a log that lost
 * entries behind the cursor clears L1; and a fill that raced an event never puts the
 * older value over the newer one (docs/architecture.md "The tiers", third rule).
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  createHarness,
  customLookup,
  gpuLookup,
  type Harness,
  LambdaSide,
  listingLookup,
  readHash,
} from "./helpers";

const SYNC_INTERVAL_MS = 500;
const lambda = new LambdaSide();
afterAll(() => lambda.close());

/** Fills L1 (and L2) with `lookup` and returns the body the origin gave. */
async function fill(h: Harness, lookup: ReturnType<typeof gpuLookup>, body: unknown, version?: number) {
  const text = h.origin.set(lookup.originPath, body, version === undefined ? {} : { version });
  const answer = await h.cache.get(lookup, h.ctx);
  expect(answer).toMatchObject({ source: "ORIGIN", body: text });
  await h.drain();
  return text;
}

describe("freshness bound", () => {
  it("serves L1 only until syncIntervalMs after the last sync began; the first read after it syncs and reloads", async () => {
    const h = createHarness({ label: "bound", syncIntervalMs: SYNC_INTERVAL_MS });
    const lookup = gpuLookup(h.keys, "gpu-bound-1");
    const t0 = h.clock.now(); // the first get's sync starts here
    const oldBody = await fill(h, lookup, { gpuId: "gpu-bound-1", status: "available" }, 1);

    // The event Lambda's atomic step at t0 + 100: new state in L2 and a log entry naming the tag.
    h.clock.set(t0 + 100);
    const newBody = '{"gpuId":"gpu-bound-1","status":"busy"}';
    await lambda.writeRecord(lookup.l2Key, {
      version: 2,
      body: newBody,
      tags: lookup.tags,
      storedAt: h.clock.now(),
    });
    await lambda.appendLog(h.keys, lookup.tags, { at: h.clock.now() });

    // Within the bound, L1 may still answer, and no Redis command is sent.
    const commandsBeforeWindow = h.cache.stats.redisCommands;
    for (const at of [t0 + 100, t0 + 300, t0 + SYNC_INTERVAL_MS - 1]) {
      h.clock.set(at);
      expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: oldBody });
    }
    expect(h.cache.stats.redisCommands).toBe(commandsBeforeWindow);

    h.clock.set(t0 + SYNC_INTERVAL_MS);
    const before = { ...h.store.calls, commands: h.cache.stats.redisCommands, syncs: h.cache.stats.syncs };
    const answer = await h.cache.get(lookup, h.ctx);
    expect(answer.body).not.toBe(oldBody);
    // The sync dropped an entry in use and re-read its record (core/cache/dropped-refresh.ts):
    // the answer is L1's, already the new one.
    expect(answer).toMatchObject({ source: "L1", body: newBody });
    expect(answer.timings.map((timing) => timing.tier)).toEqual(["sync", "l1"]);
    // One command for the log read, one for the reload.
    expect(h.cache.stats.redisCommands - before.commands).toBe(2);
    expect(h.store.calls.readLog - before.readLog).toBe(1);
    expect(h.store.calls.getMany - before.getMany).toBe(1);
    expect(h.store.calls.get - before.get).toBe(0);
    expect(h.cache.stats.syncs - before.syncs).toBe(1);
    expect(h.cache.stats.l1Evictions.byTag).toBe(1);
    expect(h.origin.count()).toBe(1);
    expect(h.cache.health.lastSyncAgoMs).toBe(0);
  });

  it.each([0, 1, 250, 499, 500, 777, 1_234])(
    "an event written %i ms after the fill is never served from L1 at event + syncIntervalMs",
    async (offset) => {
      const h = createHarness({ label: `bound-${offset}`, syncIntervalMs: SYNC_INTERVAL_MS });
      const lookup = gpuLookup(h.keys, "gpu-bound-2");
      const t0 = h.clock.now();
      const oldBody = await fill(h, lookup, { v: 1 }, 1);
      // Reads between fill and event move the sync phase around.
      for (let at = t0 + 123; at < t0 + offset; at += 123) {
        h.clock.set(at);
        expect((await h.cache.get(lookup, h.ctx)).body).toBe(oldBody);
      }
      h.clock.set(t0 + offset);
      const newBody = '{"v":2}';
      await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
      await lambda.appendLog(h.keys, lookup.tags, { at: h.clock.now() });

      h.clock.set(t0 + offset + SYNC_INTERVAL_MS);
      expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ body: newBody });
    },
  );

  it("concurrent gets during a sync share one log read and all wait for it", async () => {
    const h = createHarness({ label: "shared-sync", syncIntervalMs: SYNC_INTERVAL_MS });
    const lookups = Array.from({ length: 10 }, (_, index) => gpuLookup(h.keys, `gpu-shared-${index}`));
    const bodies: string[] = [];
    for (const lookup of lookups) bodies.push(await fill(h, lookup, { id: lookup.key }, 1));
    const [changed] = lookups;
    if (!changed) throw new Error("no lookups");
    const newBody = '{"changed":true}';
    await lambda.writeRecord(changed.l2Key, { version: 2, body: newBody, tags: changed.tags, storedAt: 0 });
    await lambda.appendLog(h.keys, changed.tags);

    h.clock.advance(SYNC_INTERVAL_MS);
    const readsBefore = h.store.calls.readLog;
    const answers = await Promise.all(lookups.map((lookup) => h.cache.get(lookup, h.ctx)));
    expect(h.store.calls.readLog - readsBefore).toBe(1);
    expect(answers.every((answer) => answer.timings[0]?.tier === "sync")).toBe(true);
    // Re-read within the shared sync, so every waiter found it in L1.
    expect(answers[0]).toMatchObject({ source: "L1", body: newBody });
    answers.slice(1).forEach((answer, index) => {
      expect(answer).toMatchObject({ source: "L1", body: bodies[index + 1] });
    });
  });

  it("evicts only by tag: untagged and unrelated entries stay in L1 through syncs", async () => {
    const h = createHarness({ label: "by-tag", syncIntervalMs: SYNC_INTERVAL_MS });
    const untagged = customLookup(h.keys, "untagged", { tags: [] });
    const unrelated = customLookup(h.keys, "unrelated", { tags: ["test:unrelated"] });
    const named = customLookup(h.keys, "named", { tags: ["test:named", "test:other"] });
    await fill(h, untagged, { a: 1 });
    await fill(h, unrelated, { b: 1 });
    await fill(h, named, { c: 1 });

    await lambda.appendLog(h.keys, ["test:other", "gpu:somewhere-else"]);
    await lambda.appendLog(h.keys, ["test:nothing"]);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(untagged, h.ctx)).source).toBe("L1");
    expect((await h.cache.get(unrelated, h.ctx)).source).toBe("L1");
    // Dropped, and re-read from its record by the sync, since it was in use.
    expect((await h.cache.get(named, h.ctx)).source).toBe("L1");
    expect(h.cache.stats.recordsRefreshed).toBe(1);
    expect(h.cache.stats.l1Evictions).toEqual({ byTag: 1, clears: 0, replacedInPlace: 0 });

    // Much later (still within the class's fresh time), more syncs: still there.
    for (let step = 0; step < 5; step++) {
      h.clock.advance(SYNC_INTERVAL_MS);
      await lambda.appendLog(h.keys, [`test:noise-${step}`]);
      expect((await h.cache.get(untagged, h.ctx)).source).toBe("L1");
    }
    expect(h.cache.stats.syncs).toBe(7);
  });
});

describe("freshness when Redis was unreachable or slow", () => {
  it("clears entries filled before the first successful sync: the isolate could not see their events", async () => {
    const h = createHarness({ label: "blind-fill", syncIntervalMs: SYNC_INTERVAL_MS });
    await lambda.appendLog(h.keys, ["seed"]);
    h.store.modes.readLog = "fail";
    const lookup = gpuLookup(h.keys, "gpu-blind-1");
    const oldBody = await fill(h, lookup, { v: 1 }, 1);
    expect(h.cache.health.cursor).toBeUndefined();

    // An event the isolate cannot see: its log read keeps failing.
    const newBody = '{"v":2}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: oldBody });

    h.store.modes.readLog = "pass";
    h.clock.advance(SYNC_INTERVAL_MS);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L2", body: newBody });
    expect(h.cache.stats.l1Evictions.clears).toBe(1);
  });

  it("a slow L2 read (past the soft timeout) never brings back a copy an event invalidated", async () => {
    const h = createHarness({
      label: "invalidated-slow",
      syncIntervalMs: SYNC_INTERVAL_MS,
      l2SoftTimeoutMs: 20,
      l2HardTimeoutMs: 100,
    });
    const lookup = gpuLookup(h.keys, "gpu-slow-after-event");
    await fill(h, lookup, { v: 1 }, 1);
    const newBody = '{"v":2}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);

    h.store.modes.get = "hang";
    h.store.modes.getMany = "hang";
    const answer = h.cache.get(lookup, h.ctx);
    // L2 answers after 40 ms: past the soft timeout, within the hard one.
    setTimeout(() => {
      h.store.modes.get = "pass";
      h.store.modes.getMany = "pass";
      h.store.releaseHung();
    }, 40);
    // Whichever read brings it (the sync's re-read of the dropped entry, or the load), never the old one.
    expect(await answer).toMatchObject({ body: newBody });
    expect((await answer).source).not.toBe("STALE");
  });

  it("still serves an invalidated copy as STALE 'error' when L2 and the origin both fail", async () => {
    const h = createHarness({ label: "invalidated-error", syncIntervalMs: SYNC_INTERVAL_MS });
    const lookup = gpuLookup(h.keys, "gpu-invalidated-error");
    const oldBody = await fill(h, lookup, { v: 1 }, 1);
    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);
    h.store.modes.get = "fail";
    h.store.modes.getMany = "fail";
    h.origin.failWith(503);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({
      source: "STALE",
      staleReason: "error",
      body: oldBody,
    });
  });
});

describe("a log that lost entries clears L1", () => {
  it("clears L1 when trimming passed the cursor, even for entries no surviving entry names", async () => {
    const h = createHarness({ label: "trimmed", syncIntervalMs: SYNC_INTERVAL_MS });
    await lambda.appendLog(h.keys, ["seed"]); // the cursor will be a real id
    const tagged = gpuLookup(h.keys, "gpu-trim-1");
    const untagged = customLookup(h.keys, "trim-untagged", { tags: [] });
    await fill(h, tagged, { v: 1 }, 1);
    await fill(h, untagged, { u: 1 });
    const cursor = h.cache.health.cursor;
    expect(cursor).toMatch(/^\d+-\d+$/);

    // Control: entries after the cursor that name other tags, nothing trimmed → L1 stays.
    for (let index = 0; index < 3; index++) await lambda.appendLog(h.keys, [`unrelated:${index}`]);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(tagged, h.ctx)).source).toBe("L1");
    expect((await h.cache.get(untagged, h.ctx)).source).toBe("L1");
    expect(h.cache.stats.l1Evictions.clears).toBe(0);

    // Exact trimming to 5 entries pushes the log past the cursor: whatever was trimmed is unknown.
    for (let index = 0; index < 20; index++) {
      await lambda.appendLog(h.keys, [`unrelated-trimmed:${index}`], { exactMaxLen: 5 });
    }
    expect(await h.redis.xlen(h.keys.invalidationLog)).toBe(5);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(tagged, h.ctx)).source).toBe("L2");
    expect((await h.cache.get(untagged, h.ctx)).source).toBe("L2");
    expect(h.cache.stats.l1Evictions.clears).toBe(1);
    // The cursor moved to the end of the log, so the next sync is an ordinary one again.
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(tagged, h.ctx)).source).toBe("L1");
    expect(h.cache.stats.l1Evictions.clears).toBe(1);
  });

  it("clears L1 when the log was deleted behind the cursor", async () => {
    const h = createHarness({ label: "log-deleted", syncIntervalMs: SYNC_INTERVAL_MS });
    await lambda.appendLog(h.keys, ["seed"]);
    const lookup = gpuLookup(h.keys, "gpu-deleted-log");
    await fill(h, lookup, { v: 1 }, 1);
    await lambda.redis.del(h.keys.invalidationLog);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L2");
    expect(h.cache.stats.l1Evictions.clears).toBe(1);
  });

  it("clears L1 when more than maxLogEntriesPerSync entries arrived since the cursor", async () => {
    const maxLogEntriesPerSync = 3;
    const h = createHarness({ label: "overflow", syncIntervalMs: SYNC_INTERVAL_MS, maxLogEntriesPerSync });
    await lambda.appendLog(h.keys, ["seed"]);
    const lookup = gpuLookup(h.keys, "gpu-overflow-1");
    await fill(h, lookup, { v: 1 }, 1);

    // Exactly the maximum: read and applied one by one (none names this entry).
    for (let index = 0; index < maxLogEntriesPerSync; index++) await lambda.appendLog(h.keys, [`a:${index}`]);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L1");
    expect(h.cache.stats.l1Evictions.clears).toBe(0);

    // One more than the maximum: the isolate cannot know what it did not read.
    for (let index = 0; index <= maxLogEntriesPerSync; index++)
      await lambda.appendLog(h.keys, [`b:${index}`]);
    h.clock.advance(SYNC_INTERVAL_MS);
    expect((await h.cache.get(lookup, h.ctx)).source).toBe("L2");
    expect(h.cache.stats.l1Evictions.clears).toBe(1);
  });

  it("never leaves the entry just past maxLogEntriesPerSync for a later sync", async () => {
    const maxLogEntriesPerSync = 3;
    const h = createHarness({
      label: "overflow-tag",
      syncIntervalMs: SYNC_INTERVAL_MS,
      maxLogEntriesPerSync,
    });
    await lambda.appendLog(h.keys, ["seed"]);
    const lookup = gpuLookup(h.keys, "gpu-overflow-2");
    await fill(h, lookup, { v: 1 }, 1);
    for (let index = 0; index < maxLogEntriesPerSync; index++) await lambda.appendLog(h.keys, [`n:${index}`]);
    // The fourth entry is the event that changed this GPU.
    const newBody = '{"v":2}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
    await lambda.appendLog(h.keys, lookup.tags);

    h.clock.advance(SYNC_INTERVAL_MS);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L2", body: newBody });
  });
});

describe("fills that race an event", () => {
  /** An isolate that has synced once, so its fills carry a cursor. */
  async function synced(label: string) {
    const h = createHarness({ label, syncIntervalMs: SYNC_INTERVAL_MS });
    await lambda.appendLog(h.keys, ["seed"]);
    await h.cache.get(customLookup(h.keys, "warm-up"), h.ctx);
    await h.drain();
    expect(h.cache.health.cursor).toMatch(/^\d+-\d+$/);
    return h;
  }

  it("a request after the sync that saw the event does not join the load the event overtook", async () => {
    const h = await synced("race-join");
    const lookup = gpuLookup(h.keys, "gpu-race-join");
    const oldBody = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    const release = h.origin.hold();
    const slow = h.cache.get(lookup, h.ctx);
    await h.origin.called(2);

    const newBody = '{"v":2}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 0 });
    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);
    // This request syncs (sees the event) while the old load is still held at the origin.
    const after = h.cache.get(lookup, h.ctx);
    const answer = await after;
    release();
    expect(answer).toMatchObject({ source: "L2", body: newBody });
    expect(await slow).toMatchObject({ source: "ORIGIN", body: oldBody });
  });

  it("a slow origin answer (version 1) never overwrites the event's record (version 2) in L2, nor survives the next sync in L1", async () => {
    const h = await synced("race-entity");
    const lookup = gpuLookup(h.keys, "gpu-race-1");
    const oldBody = h.origin.set(lookup.originPath, { v: 1, status: "available" }, { version: 1 });
    const release = h.origin.hold();
    const slow = h.cache.get(lookup, h.ctx);
    await h.origin.called(2);

    // The event lands while the origin's (older) answer is on its way.
    const newBody = '{"v":2,"status":"busy"}';
    await lambda.writeRecord(lookup.l2Key, { version: 2, body: newBody, tags: lookup.tags, storedAt: 7 });
    await lambda.appendLog(h.keys, lookup.tags);
    release();
    // The request began before the event, so it may answer with what it read.
    expect(await slow).toMatchObject({ source: "ORIGIN", body: oldBody });
    await h.drain();
    expect(h.cache.stats.fillsRefused).toEqual({ older: 1, raced: 0 });
    expect(await readHash(h.redis, lookup.l2Key)).toEqual({
      v: "2",
      b: newBody,
      t: lookup.tags.join(" "),
      s: "7",
      // The event's record as the test wrote it (without an ETag): the refused fill left it alone.
      e: "",
    });

    h.clock.advance(SYNC_INTERVAL_MS);
    // The next sync drops the (suspect) L1 copy and re-reads the event's record in its place.
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "L1", body: newBody });
  });

  it("an aggregate (version 0) fill is refused by the log check alone ('raced')", async () => {
    const h = await synced("race-indexed");
    const lookup = listingLookup(h.keys, { region: "eu-west" });
    const oldBody = h.origin.set(lookup.originPath, { items: ["old"] });
    const release = h.origin.hold();
    const slow = h.cache.get(lookup, h.ctx);
    await h.origin.called(2);

    await lambda.appendLog(h.keys, ["gpu:unrelated"]);
    await lambda.appendLog(h.keys, [...lookup.tags, "stats:eu-west:RTX-4090"]);
    release();
    expect(await slow).toMatchObject({ source: "ORIGIN", body: oldBody });
    await h.drain();
    expect(h.cache.stats.fillsRefused).toEqual({ older: 0, raced: 1 });
    expect(await h.redis.exists(lookup.l2Key)).toBe(0);
    expect(await h.redis.smembers(h.keys.tagIndex(lookup.tags[0] ?? ""))).toEqual([]);

    const newBody = h.origin.set(lookup.originPath, { items: ["new"] });
    h.clock.advance(SYNC_INTERVAL_MS);
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "ORIGIN", body: newBody });
  });

  it("keeps a value out of L1 when the sync saw its event while the value was in flight", async () => {
    const h = await synced("race-l1");
    const lookup = gpuLookup(h.keys, "gpu-race-l1");
    const oldBody = h.origin.set(lookup.originPath, { v: 1 }, { version: 1 });
    const release = h.origin.hold();
    const slow = h.cache.get(lookup, h.ctx);
    await h.origin.called(2);

    await lambda.appendLog(h.keys, lookup.tags);
    h.clock.advance(SYNC_INTERVAL_MS);
    // Another request runs the sync that applies the event while the origin is still answering.
    await h.cache.get(customLookup(h.keys, "warm-up"), h.ctx);
    expect(h.cache.stats.syncs).toBe(2);
    release();
    expect((await slow).body).toBe(oldBody);
    await h.drain();
    expect(h.cache.stats.fillsRefused.raced).toBe(1);

    const newBody = h.origin.set(lookup.originPath, { v: 2 }, { version: 2 });
    expect(await h.cache.get(lookup, h.ctx)).toMatchObject({ source: "ORIGIN", body: newBody });
  });

  it("a fill that only unrelated log entries followed is stored", async () => {
    const h = await synced("no-race");
    const lookup = gpuLookup(h.keys, "gpu-no-race");
    await lambda.appendLog(h.keys, ["gpu:someone-else", "gpus:*:*"]);
    const body = await fill(h, lookup, { v: 3 }, 3);
    expect(h.cache.stats.fillsRefused).toEqual({ older: 0, raced: 0 });
    expect(await readHash(h.redis, lookup.l2Key)).toMatchObject({ v: "3", b: body });
  });
});
