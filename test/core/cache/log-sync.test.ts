/**
 * The log sync's rules (core/cache/log-sync.ts) against a scripted log: the first read
 * only learns the cursor (clearing what was filled before it), later reads invalidate the
 * tags they name, a lost log clears L1, a reset log (another epoch) clears it too and is counted
 * and logged, a failure keeps the cursor, and an open circuit does not use up the interval. The
 * real Redis log is exercised by tiered-cache.freshness.test.ts and test/chaos/.
 */
import { describe, expect, it } from "vitest";
import { L1Store } from "../../../core/cache/l1-store";
import { L2Guard } from "../../../core/cache/l2-guard";
import type { LogRead } from "../../../core/cache/l2-store";
import { LogSync } from "../../../core/cache/log-sync";
import { ManualTimers } from "../../support/manual-timers";

const INTERVAL_MS = 500;
const MAX_ENTRIES = 10;
const COOLDOWN_MS = 5_000;

type Reply = LogRead | Error;

const EPOCH = "epoch-1";

/** A read of the log in EPOCH; `lost` and `reset` false unless given. */
function reply(fields: Partial<LogRead> & Pick<LogRead, "lastId">): LogRead {
  return { epoch: EPOCH, entries: [], lost: false, reset: false, ...fields };
}

function createSync() {
  const timers = new ManualTimers();
  const clock = timers.clock;
  const counters = {
    redisCommands: 0,
    redisErrors: 0,
    syncs: 0,
    logResets: 0,
    l1Evictions: { byTag: 0, clears: 0, replacedInPlace: 0 },
  };
  const warnings: string[] = [];
  const l1 = new L1Store({ maxBytes: 1024 * 1024, maxEntries: 100, maxAgeMs: 60_000, clock, counters });
  const guard = new L2Guard({
    clock,
    timers,
    logger: { warn: () => {} },
    hardTimeoutMs: 50,
    breaker: { failureThreshold: 1, cooldownMs: COOLDOWN_MS },
    counters,
  });
  const replies: Reply[] = [];
  const asked: Array<{ cursor: string | undefined; maxEntries: number; epoch: string | undefined }> = [];
  const sync = new LogSync({
    l2: {
      readLog: async (cursor, maxEntries, epoch) => {
        asked.push({ cursor, maxEntries, epoch });
        const reply = replies.shift();
        if (!reply) throw new Error("no scripted reply");
        if (reply instanceof Error) throw reply;
        return reply;
      },
    },
    l1,
    guard,
    clock,
    timers,
    intervalMs: INTERVAL_MS,
    maxEntriesPerRead: MAX_ENTRIES,
    counters,
    logger: { warn: (message: string) => warnings.push(message) },
  });
  const fill = (key: string, tags: readonly string[]) =>
    l1.fill(
      key,
      { body: "{}", etag: '"e"', tags, dataClass: "gpu", contentType: "application/json" },
      l1.sequence,
    );
  return { sync, l1, clock, counters, replies, asked, fill, guard, warnings };
}

function entry(id: string, tags: readonly string[]) {
  return { id, tags, eventId: `evt-${id}`, at: 0, records: [] };
}

describe("LogSync", () => {
  it("the first read learns the cursor and clears what was filled before it", async () => {
    const s = createSync();
    s.fill("/a", ["gpu:a"]);
    s.replies.push(reply({ lastId: "5-0" }));
    expect(await s.sync.syncIfDue()).toBe(true);
    expect(s.asked).toEqual([{ cursor: undefined, maxEntries: MAX_ENTRIES, epoch: undefined }]);
    expect(s.sync.cursor).toBe("5-0");
    expect(s.l1.get("/a")?.invalidated).toBe(true);
    expect(s.counters.l1Evictions.clears).toBe(1);
    expect(s.counters.syncs).toBe(1);
    expect(s.sync.health).toEqual({ cursor: "5-0", lastSyncAgoMs: 0, lastSyncError: undefined });
  });

  it("a first read with L1 empty clears nothing", async () => {
    const s = createSync();
    s.replies.push(reply({ lastId: "0-0" }));
    await s.sync.syncIfDue();
    expect(s.counters.l1Evictions.clears).toBe(0);
  });

  it("reads at most once per interval, and then from the cursor; entries invalidate their tags", async () => {
    const s = createSync();
    s.replies.push(reply({ lastId: "5-0" }));
    await s.sync.syncIfDue();
    s.fill("/a", ["gpu:a"]);
    s.fill("/b", ["gpu:b"]);

    s.clock.advance(INTERVAL_MS - 1);
    expect(s.sync.mayBeDue(s.clock.now())).toBe(false);
    expect(await s.sync.syncIfDue()).toBe(false);

    s.clock.advance(1);
    expect(s.sync.mayBeDue(s.clock.now())).toBe(true);
    s.replies.push(
      reply({ lastId: "7-0", entries: [entry("6-0", ["gpu:a", "gpus:eu"]), entry("7-0", ["gpu:zzz"])] }),
    );
    expect(await s.sync.syncIfDue()).toBe(true);
    expect(s.asked.at(-1)).toMatchObject({ cursor: "5-0", epoch: EPOCH });
    expect(s.l1.get("/a")?.invalidated).toBe(true);
    expect(s.l1.get("/b")?.invalidated).toBe(false);
    expect(s.counters.l1Evictions).toEqual({ byTag: 1, clears: 0, replacedInPlace: 0 });
    expect(s.sync.cursor).toBe("7-0");
  });

  it("a lost log clears L1 and moves the cursor to the end of the log", async () => {
    const s = createSync();
    s.replies.push(reply({ lastId: "5-0" }));
    await s.sync.syncIfDue();
    s.fill("/untagged", []);

    s.clock.advance(INTERVAL_MS);
    s.replies.push(reply({ lastId: "90-0", lost: true }));
    await s.sync.syncIfDue();
    expect(s.l1.get("/untagged")?.invalidated).toBe(true);
    expect(s.counters.l1Evictions.clears).toBe(1);
    expect(s.sync.cursor).toBe("90-0");
    // Trimmed, not reset: nothing for an operator.
    expect(s.counters.logResets).toBe(0);
    expect(s.warnings).toEqual([]);
  });

  it("a reset log clears L1, is counted and logged, and the sync goes on in the new log and epoch", async () => {
    const s = createSync();
    s.replies.push(reply({ lastId: "5-0" }));
    await s.sync.syncIfDue();
    expect(s.sync.position).toEqual({ cursor: "5-0", epoch: EPOCH });
    s.fill("/a", ["gpu:a"]);
    s.fill("/b", ["gpu:b"]);

    // Redis came back empty and an event naming only gpu:b landed first.
    s.clock.advance(INTERVAL_MS);
    s.replies.push({ lastId: "9-0", epoch: "epoch-2", entries: [], lost: true, reset: true });
    await s.sync.syncIfDue();
    expect(s.asked.at(-1)).toMatchObject({ cursor: "5-0", epoch: EPOCH });
    expect(s.l1.get("/a")?.invalidated).toBe(true);
    expect(s.l1.get("/b")?.invalidated).toBe(true);
    expect(s.counters.logResets).toBe(1);
    expect(s.counters.l1Evictions.clears).toBe(1);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toContain("invalidation log reset");
    expect(s.warnings[0]).toContain("5-0");
    expect(s.warnings[0]).toContain("epoch-2");
    expect(s.sync.position).toEqual({ cursor: "9-0", epoch: "epoch-2" });

    // The next read asks from the new log's end, in its epoch, and is an ordinary one.
    s.fill("/c", ["gpu:c"]);
    s.clock.advance(INTERVAL_MS);
    s.replies.push(reply({ lastId: "10-0", epoch: "epoch-2", entries: [entry("10-0", ["gpu:zzz"])] }));
    await s.sync.syncIfDue();
    expect(s.asked.at(-1)).toMatchObject({ cursor: "9-0", epoch: "epoch-2" });
    expect(s.l1.get("/c")?.invalidated).toBe(false);
    expect(s.counters.logResets).toBe(1);
  });

  it("has no position until a read has succeeded", async () => {
    const s = createSync();
    expect(s.sync.position).toBeUndefined();
    s.replies.push(new Error("connection refused"));
    await s.sync.syncIfDue();
    expect(s.sync.position).toBeUndefined();
  });

  it("a failed read keeps the cursor and reports its error until a read succeeds", async () => {
    const s = createSync();
    s.replies.push(reply({ lastId: "5-0" }));
    await s.sync.syncIfDue();
    s.fill("/a", ["gpu:a"]);

    s.clock.advance(INTERVAL_MS);
    s.replies.push(new Error("connection reset"));
    expect(await s.sync.syncIfDue()).toBe(true);
    expect(s.sync.health).toEqual({
      cursor: "5-0",
      lastSyncAgoMs: INTERVAL_MS,
      lastSyncError: "connection reset",
    });
    expect(s.l1.get("/a")?.invalidated).toBe(false);
    expect(s.counters.syncs).toBe(1);

    // The breaker (threshold 1) is open: no read goes out, and the interval is not used up,
    // so the first request after the cool-down is the probe.
    s.clock.advance(COOLDOWN_MS - 1);
    expect(await s.sync.syncIfDue()).toBe(false);
    expect(s.asked).toHaveLength(2);
    s.clock.advance(1);
    s.replies.push(reply({ lastId: "5-0" }));
    expect(await s.sync.syncIfDue()).toBe(true);
    expect(s.asked).toHaveLength(3);
    expect(s.sync.health.lastSyncError).toBeUndefined();
    expect(s.guard.circuit).toBe("closed");
  });
});
