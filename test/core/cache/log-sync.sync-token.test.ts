/**
 * Read-your-own-writes in the log sync (core/cache/log-sync.ts `syncPast`, `parseSyncToken`)
 * against a scripted log on a manual clock: a token past the cursor forces a read whatever the
 * interval, one at or behind it costs nothing, concurrent requests share one read, and made-up
 * tokens (from the future, naming nothing the log has, or many of them) cannot buy a read each.
 * The Worker end to end, two isolates and the event app: test/dev/local/read-your-own-writes.test.ts.
 */
import { describe, expect, it } from "vitest";
import { zeroTieredCacheStats } from "../../../core/cache/cache-stats";
import { L1Store } from "../../../core/cache/l1-store";
import { L2Guard } from "../../../core/cache/l2-guard";
import type { LogRead } from "../../../core/cache/l2-store";
import {
  FORCED_SYNC_SPACING_MS,
  InvalidSyncTokenError,
  LogSync,
  parseSyncToken,
  SYNC_TOKEN_CLOCK_SKEW_MS,
  type SyncToken,
} from "../../../core/cache/log-sync";
import { decodeLogEntry, encodeLogFields } from "../../../core/invalidation-log";
import { ManualTimers, settlePromises } from "../../support/manual-timers";
import { deferred } from "./helpers";

const INTERVAL_MS = 60_000;
const HARD_TIMEOUT_MS = 50;
const COOLDOWN_MS = 5_000;
const EPOCH = "epoch-1";

/** What a scripted read answers: a read, an error, or a read the test releases later. */
type Reply = LogRead | Error | Promise<LogRead>;

function entry(id: string, tags: readonly string[]) {
  // Decoded from stream fields, as the store does: whatever else an entry carries stays empty.
  const fields = encodeLogFields({ tags, eventId: `evt-${id}`, at: 0 });
  return decodeLogEntry(id, Object.entries(fields).flat());
}

function logRead(lastId: string, entryTags: Record<string, readonly string[]> = {}): LogRead {
  const entries = Object.entries(entryTags).map(([id, tags]) => entry(id, tags));
  return { lastId, epoch: EPOCH, entries, lost: false, reset: false };
}

function createSync() {
  const timers = new ManualTimers();
  const clock = timers.clock;
  const counters = zeroTieredCacheStats();
  const l1 = new L1Store({ maxBytes: 1024 * 1024, maxEntries: 100, maxAgeMs: 600_000, clock, counters });
  const guard = new L2Guard({
    clock,
    timers,
    logger: { warn: () => {} },
    hardTimeoutMs: HARD_TIMEOUT_MS,
    breaker: { failureThreshold: 1, cooldownMs: COOLDOWN_MS },
    counters,
  });
  const replies: Reply[] = [];
  const asked: Array<string | undefined> = [];
  const sync = new LogSync({
    l2: {
      readLog: async (cursor) => {
        asked.push(cursor);
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
    maxEntriesPerRead: 100,
    counters,
    logger: { warn: () => {} },
  });
  const fill = (key: string, tags: readonly string[]) =>
    l1.fill(
      key,
      { body: "{}", etag: '"e"', tags, dataClass: "gpu", contentType: "application/json" },
      l1.sequence,
    );
  /** A token for an entry written `agoMs` before now (Redis's clock = this clock). */
  const token = (agoMs = 0, seq = 0): SyncToken =>
    parseSyncToken(`${clock.now() - agoMs}-${seq}`, clock.now());
  /** Starts `syncPast` and tells when it has settled, with what. */
  const start = (t: SyncToken) => {
    const call = { done: false, waited: undefined as boolean | undefined };
    void sync.syncPast(t).then((waited) => {
      call.done = true;
      call.waited = waited;
    });
    return call;
  };
  return { sync, l1, timers, clock, counters, replies, asked, fill, guard, token, start };
}

/** An isolate whose first read learned cursor `5-0` and then filled `/gpu` (tag gpu:a). */
async function warmed() {
  const s = createSync();
  s.replies.push(logRead("5-0"));
  await s.sync.syncIfDue();
  s.fill("/gpu", ["gpu:a"]);
  return s;
}

describe("parseSyncToken", () => {
  const now = 1_700_000_000_000;

  it("takes one <ms>-<seq> log position", () => {
    expect(parseSyncToken(`${now}-7`, now)).toEqual({ id: `${now}-7`, ms: now });
    expect(parseSyncToken("0-0", now)).toEqual({ id: "0-0", ms: 0 });
    // As far ahead as the skew allows, no further.
    expect(parseSyncToken(`${now + SYNC_TOKEN_CLOCK_SKEW_MS}-0`, now).ms).toBe(
      now + SYNC_TOKEN_CLOCK_SKEW_MS,
    );
  });

  it.for<[string, string, string]>([
    ["from the future", `${now + SYNC_TOKEN_CLOCK_SKEW_MS + 1}-0`, "from the future"],
    ["two values", `${now}-1, ${now}-2`, "more than one value"],
    ["too long", `${"1".repeat(21)}-${"1".repeat(20)}`, "longer than 41 characters"],
    ["no sequence", `${now}`, "not a log position"],
    ["a sign", `-${now}-0`, "not a log position"],
    ["Redis's special ids", "$", "not a log position"],
    ["a range", `${now}-*`, "not a log position"],
    ["empty", "", "not a log position"],
    ["a sequence past 2^53", `${now}-99999999999999999999`, "sequence number out of range"],
  ])("refuses %s", ([, raw, reason]) => {
    expect(() => parseSyncToken(raw, now)).toThrow(InvalidSyncTokenError);
    expect(() => parseSyncToken(raw, now)).toThrow(reason);
  });
});

describe("LogSync.syncPast", () => {
  it("a token past the cursor forces a read within the interval, and L1 drops what it names", async () => {
    const s = await warmed();
    s.clock.advance(100);
    expect(s.sync.mayBeDue(s.clock.now())).toBe(false);
    const t = s.token(0, 3);
    expect(s.sync.isBehind(t)).toBe(true);
    s.replies.push(logRead(t.id, { [t.id]: ["gpu:a"] }));

    expect(await s.sync.syncPast(t)).toBe(true);
    expect(s.asked).toEqual([undefined, "5-0"]);
    expect(s.sync.cursor).toBe(t.id);
    expect(s.l1.get("/gpu")?.invalidated).toBe(true);
    expect(s.sync.isBehind(t)).toBe(false);
  });

  it("a token at or behind the cursor reads nothing", async () => {
    const s = await warmed();
    s.clock.advance(100);
    for (const id of ["5-0", "4-9", "0-0"]) {
      const t = parseSyncToken(id, s.clock.now());
      expect(s.sync.isBehind(t)).toBe(false);
      expect(await s.sync.syncPast(t)).toBe(false);
    }
    expect(s.asked).toHaveLength(1);
    expect(s.l1.get("/gpu")?.invalidated).toBe(false);
  });

  it("concurrent requests with tokens share one forced read", async () => {
    const s = await warmed();
    const t = s.token();
    const release = deferred<LogRead>();
    s.replies.push(release.promise);
    const calls = Array.from({ length: 5 }, (_, index) => s.start(s.token(0, index % 2)));
    await settlePromises();
    expect(s.asked).toHaveLength(2);

    release.resolve(logRead(`${t.ms}-1`, { [`${t.ms}-1`]: ["gpu:a"] }));
    await s.timers.step(() => calls.every((call) => call.done), 100);
    expect(calls.map((call) => call.waited)).toEqual([true, true, true, true, true]);
    expect(s.asked).toHaveLength(2);
    expect(s.sync.cursor).toBe(`${t.ms}-1`);
  });

  it("joins a read already under way, then forces one when that read began before the write", async () => {
    const s = await warmed();
    // The interval's read starts (another request) before the client's write lands.
    s.clock.advance(INTERVAL_MS);
    const interval = deferred<LogRead>();
    s.replies.push(interval.promise);
    const due = s.sync.syncIfDue();
    await settlePromises();
    expect(s.asked).toHaveLength(2);

    const t = s.token(0, 0);
    s.replies.push(logRead(t.id, { [t.id]: ["gpu:a"] }));
    const call = s.start(t);
    await settlePromises();
    // One read at a time: the token's request waits for the one in flight first.
    expect(s.asked).toHaveLength(2);
    interval.resolve(logRead("5-0"));
    await due;
    await s.timers.step(() => call.done, 100);
    expect(s.asked).toEqual([undefined, "5-0", "5-0"]);
    expect(s.sync.cursor).toBe(t.id);
    expect(s.l1.get("/gpu")?.invalidated).toBe(true);
  });

  it("a token the log does not have costs one read, not one per request, and then one per spacing", async () => {
    const s = await warmed();
    s.clock.advance(100);
    // Made up: past the cursor and within the skew, so only a read can tell.
    const bogus = s.token(0, 99);
    s.replies.push(logRead("5-0"));
    expect(await s.sync.syncPast(bogus)).toBe(true);
    expect(s.asked).toHaveLength(2);
    expect(s.sync.cursor).toBe("5-0");

    // The next ones, arriving within the spacing, wait for its turn and share that one read.
    s.replies.push(logRead("5-0"));
    const calls = Array.from({ length: 10 }, () => s.start(bogus));
    await settlePromises();
    expect(s.asked).toHaveLength(2);
    s.timers.advance(FORCED_SYNC_SPACING_MS - 1);
    await settlePromises();
    expect(s.asked).toHaveLength(2);
    await s.timers.step(() => calls.every((call) => call.done), 100);
    expect(s.asked).toHaveLength(3);
    expect(calls.every((call) => call.waited)).toBe(true);
  });

  it("a token the log should already hold (a read that began past its time + skew) forces nothing", async () => {
    const s = await warmed();
    const old = s.token();
    // A read that began later than the token's time plus the skew, and succeeded.
    s.clock.advance(INTERVAL_MS);
    s.replies.push(logRead("5-0"));
    await s.sync.syncIfDue();
    expect(old.ms + SYNC_TOKEN_CLOCK_SKEW_MS).toBeLessThan(s.clock.now());
    expect(s.sync.isBehind(old)).toBe(true);

    expect(await s.sync.syncPast(old)).toBe(false);
    expect(s.asked).toHaveLength(2);
    expect(s.l1.get("/gpu")?.invalidated).toBe(false);
  });

  it("a token from the future forces nothing", async () => {
    const s = await warmed();
    const future: SyncToken = {
      id: `${s.clock.now() + SYNC_TOKEN_CLOCK_SKEW_MS + 1}-0`,
      ms: s.clock.now() + SYNC_TOKEN_CLOCK_SKEW_MS + 1,
    };
    expect(s.sync.isBehind(future)).toBe(true);
    expect(await s.sync.syncPast(future)).toBe(false);
    expect(s.asked).toHaveLength(1);
  });

  it("a failed forced read lets the request go on, and the next token tries again in its turn", async () => {
    const s = await warmed();
    s.clock.advance(100);
    const t = s.token();
    s.replies.push(new Error("connection reset"));
    expect(await s.sync.syncPast(t)).toBe(true);
    expect(s.asked).toHaveLength(2);
    expect(s.sync.health.lastSyncError).toBe("connection reset");

    // The breaker (threshold 1) is open: past the spacing no read goes out and nothing is waited for.
    s.clock.advance(COOLDOWN_MS - 1);
    expect(await s.sync.syncPast(t)).toBe(false);
    expect(s.asked).toHaveLength(2);

    // After the cool-down the token's request is the probe.
    s.clock.advance(1);
    s.replies.push(logRead(t.id, { [t.id]: ["gpu:a"] }));
    expect(await s.sync.syncPast(t)).toBe(true);
    expect(s.asked).toHaveLength(3);
    expect(s.sync.cursor).toBe(t.id);
  });

  it("a forced read that never settles holds the request no longer than the hard timeout", async () => {
    const s = await warmed();
    const t = s.token();
    s.replies.push(new Promise<LogRead>(() => {}));
    const call = s.start(t);
    const moved = await s.timers.step(() => call.done, 1_000);
    expect(call.done).toBe(true);
    // The guard's hard timeout settles it as failed; the request sees that at its next look.
    expect(moved).toBeLessThanOrEqual(HARD_TIMEOUT_MS + 4);
    expect(s.asked).toHaveLength(2);
  });

  it("the first token of an isolate with no cursor yet reads the log's end", async () => {
    const s = createSync();
    const t = s.token();
    s.replies.push(logRead(t.id));
    expect(await s.sync.syncPast(t)).toBe(true);
    expect(s.asked).toEqual([undefined]);
    expect(s.sync.cursor).toBe(t.id);
  });
});
