/**
 * Shared work (core/cache/shared-work.ts): a waiting request looks at the work's outcome on
 * its own timers, never at the other request's promise; it gives up once the work is past
 * its own limits by the margin; a single-flight load is joined, followed and dropped.
 * Manual timers: the waits are stepped, not slept.
 */
import { describe, expect, it } from "vitest";
import {
  type Outcome,
  PendingWorkBudget,
  SHARED_WAIT_MARGIN_MS,
  type Shared,
  SingleFlight,
  share,
  waitInOwnContext,
} from "../../../core/cache/shared-work";
import { TimeoutError } from "../../../core/time/clock";
import { ManualTimers, settlePromises } from "../../support/manual-timers";
import { type Deferred, deferred } from "./helpers";

const WORK_LIMIT_MS = 50;

/** Starts waiting on `shared` and reports when the wait is over. */
function startWaiting<T>(shared: Shared<T>, timers: ManualTimers) {
  const wait: { over: boolean; result?: Outcome<T> | undefined } = { over: false };
  void waitInOwnContext(shared, WORK_LIMIT_MS, timers).then((result) => {
    wait.over = true;
    wait.result = result;
  });
  return wait;
}

describe("share", () => {
  it("records how the work settled", async () => {
    const ok = share(Promise.resolve(7), { startedBy: "a" });
    const failed = share(Promise.reject(new Error("boom")));
    expect(ok.startedBy).toBe("a");
    await settlePromises();
    expect(ok.outcome).toEqual({ ok: true, value: 7 });
    expect(failed.outcome).toMatchObject({ ok: false, error: { message: "boom" } });
  });
});

describe("waitInOwnContext", () => {
  it("answers from the outcome alone, never awaiting the other request's promise", async () => {
    const timers = new ManualTimers();
    // A promise that never settles: only the recorded outcome can end the wait.
    const shared: Shared<number> = { promise: new Promise<number>(() => {}) };
    const wait = startWaiting(shared, timers);
    await timers.step(() => wait.over, 10);
    expect(wait.over).toBe(false);

    shared.outcome = { ok: true, value: 42 };
    const moved = await timers.step(() => wait.over, 10);
    expect(wait.result).toEqual({ ok: true, value: 42 });
    // Polling backs off to at most 4 ms between looks.
    expect(moved).toBeLessThanOrEqual(4);
  });

  it("hands back a failure as an outcome", async () => {
    const timers = new ManualTimers();
    const work = deferred<number>();
    const shared = share(work.promise);
    const wait = startWaiting(shared, timers);
    work.reject(new Error("origin down"));
    await timers.step(() => wait.over, 10);
    expect(wait.result).toMatchObject({ ok: false, error: { message: "origin down" } });
  });

  it("gives up once the work is past its own limit by the margin, not before", async () => {
    const timers = new ManualTimers();
    const shared = share(new Promise<number>(() => {}));
    const wait = startWaiting(shared, timers);
    const moved = await timers.step(() => wait.over, 1_000);
    expect(wait).toEqual({ over: true, result: undefined });
    expect(moved).toBeGreaterThan(WORK_LIMIT_MS + SHARED_WAIT_MARGIN_MS);
    expect(moved).toBeLessThanOrEqual(WORK_LIMIT_MS + SHARED_WAIT_MARGIN_MS + 4);
  });
});

describe("SingleFlight", () => {
  function createFlights(budget?: PendingWorkBudget) {
    const timers = new ManualTimers();
    const flights = new SingleFlight<string, { readonly generation: number }>(timers, WORK_LIMIT_MS, budget);
    let started = 0;
    const works: Deferred<string>[] = [];
    const start = () => {
      started += 1;
      const work = deferred<string>();
      works.push(work);
      return { work: work.promise, meta: { generation: started } };
    };
    return { timers, flights, start, works, started: () => started };
  }

  it("a second request joins the first one's load and gets its answer", async () => {
    const f = createFlights();
    const leader = f.flights.joinOrStart("/a", () => true, f.start);
    const follower = f.flights.joinOrStart("/a", () => true, f.start);
    expect(leader.leader).toBe(true);
    expect(follower).toEqual({ flight: leader.flight, leader: false });
    expect(f.started()).toBe(1);

    let answer: string | undefined;
    void f.flights.follow("/a", follower.flight).then((value) => {
      answer = value;
    });
    f.works[0]?.resolve("v1");
    await f.timers.step(() => answer !== undefined, 10);
    expect(answer).toBe("v1");
    expect(await leader.flight.promise).toBe("v1");
  });

  it("starts a new load when the caller refuses the one under way, and after a load settles", async () => {
    const f = createFlights();
    const first = f.flights.joinOrStart("/a", () => true, f.start);
    const refused = f.flights.joinOrStart("/a", (flight) => flight.generation > 1, f.start);
    expect(refused.leader).toBe(true);
    expect(refused.flight.generation).toBe(2);

    // The first load settling does not drop the newer one.
    f.works[0]?.resolve("old");
    await first.flight.promise;
    expect(f.flights.joinOrStart("/a", () => true, f.start).flight).toBe(refused.flight);

    f.works[1]?.resolve("new");
    await refused.flight.promise;
    expect(f.flights.joinOrStart("/a", () => true, f.start).leader).toBe(true);
    expect(f.started()).toBe(3);
  });

  it("a follower gets the leader's error", async () => {
    const f = createFlights();
    const { flight } = f.flights.joinOrStart("/a", () => true, f.start);
    let error: unknown;
    void flight.promise.catch(() => {});
    void f.flights.follow("/a", flight).catch((caught: unknown) => {
      error = caught;
    });
    f.works[0]?.reject(new Error("origin answered 503"));
    await f.timers.step(() => error !== undefined, 10);
    expect(error).toMatchObject({ message: "origin answered 503" });
  });

  it("a load that never settles fails its followers past its limits and is dropped", async () => {
    const f = createFlights();
    const { flight } = f.flights.joinOrStart("/a", () => true, f.start);
    let error: unknown;
    void f.flights.follow("/a", flight).catch((caught: unknown) => {
      error = caught;
    });
    const moved = await f.timers.step(() => error !== undefined, 1_000);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(String(error)).toContain(
      `the shared load of /a did not settle within ${WORK_LIMIT_MS + SHARED_WAIT_MARGIN_MS} ms`,
    );
    expect(moved).toBeGreaterThan(WORK_LIMIT_MS + SHARED_WAIT_MARGIN_MS);
    // The next request starts afresh instead of following the hung load.
    expect(f.flights.joinOrStart("/a", () => true, f.start).leader).toBe(true);
  });
});

describe("PendingWorkBudget", () => {
  it("counts each key at two bytes a character plus its slot, and refuses past the budget", () => {
    const key = "/v1/gpus/gpu-1";
    const cost = PendingWorkBudget.costOf(key);
    expect(cost).toBeGreaterThanOrEqual(2 * key.length);
    const budget = new PendingWorkBudget(2 * cost);
    expect(budget.tryReserve(key)).toBe(true);
    expect(budget.tryReserve(key)).toBe(true);
    expect(budget.tryReserve(key)).toBe(false);
    expect(budget.usage).toEqual({ entries: 2, bytes: 2 * cost, maxBytes: 2 * cost, refused: 1 });
    budget.release(key);
    expect(budget.usage).toMatchObject({ entries: 1, bytes: cost });
  });
});

describe("SingleFlight within its byte budget", () => {
  function createBudgeted(keysThatFit: number) {
    const budget = new PendingWorkBudget(keysThatFit * PendingWorkBudget.costOf("/k0"));
    const timers = new ManualTimers();
    const flights = new SingleFlight<string, object>(timers, WORK_LIMIT_MS, budget);
    const works: Deferred<string>[] = [];
    const start = () => {
      const work = deferred<string>();
      works.push(work);
      return { work: work.promise, meta: {} };
    };
    return { budget, flights, works, start };
  }

  it("a load past the budget still runs, unshared; the map never holds more than the budget", async () => {
    const f = createBudgeted(2);
    const loads = ["/k0", "/k1", "/k2", "/k3"].map((key) => f.flights.joinOrStart(key, () => true, f.start));
    expect(loads.every((load) => load.leader)).toBe(true);
    expect(f.budget.usage).toMatchObject({ entries: 2, refused: 2 });
    expect(f.budget.usage.bytes).toBeLessThanOrEqual(f.budget.maxBytes);
    // /k0 was entered: a second request joins it. /k2 was not: a second request starts its own.
    expect(f.flights.joinOrStart("/k0", () => true, f.start).leader).toBe(false);
    expect(f.flights.joinOrStart("/k2", () => true, f.start).leader).toBe(true);
    // The unshared load still answers its own request.
    f.works[2]?.resolve("k2");
    expect(await loads[2]?.flight.promise).toBe("k2");
  });

  it("settled loads give their room back; a replaced flight keeps the key's one slot", async () => {
    const f = createBudgeted(1);
    const first = f.flights.joinOrStart("/k0", () => true, f.start);
    const replacing = f.flights.joinOrStart("/k0", () => false, f.start);
    expect(replacing.leader).toBe(true);
    expect(f.budget.usage).toMatchObject({ entries: 1, refused: 0 });
    f.works[0]?.resolve("old");
    await first.flight.promise;
    expect(f.budget.usage.entries).toBe(1);
    f.works[1]?.resolve("new");
    await replacing.flight.promise;
    await settlePromises();
    expect(f.budget.usage).toMatchObject({ entries: 0, bytes: 0 });
  });
});
