/**
 * `npm run event`'s watch of the edge (dev/local/edge-watch.ts) on a manual clock: what each event
 * should change there, how long it polls, and the one line it prints.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_EDGE_POLL_MS,
  DEFAULT_EDGE_WATCH_MS,
  describeEdgeWatch,
  type EdgeExpectation,
  edgeExpectationFor,
  watchEdge,
} from "../../../dev/local/edge-watch";
import { marketplaceEvent } from "../../../dev/local/marketplace-events";
import { fetchFailureReason } from "../../../dev/local/unreachable";
import { ManualClock } from "../../support/manual-clock";
import { recordingSleep } from "../../support/recording-sleep";

const busy: EdgeExpectation = { path: "/v1/gpus/gpu-00001", field: "status", value: "busy" };

/** A fetch answering each call from `answers` in turn (the last one repeats), recording the URLs. */
function scriptedFetch(answers: ReadonlyArray<() => Response>) {
  const urls: string[] = [];
  const fetchImpl = (async (input: string | URL | Request) => {
    urls.push(String(input));
    const answer = answers[Math.min(urls.length, answers.length) - 1];
    if (!answer) throw new Error("no answer scripted");
    return answer();
  }) as typeof fetch;
  return { fetch: fetchImpl, urls };
}

const gpu = (status: string) => () => Response.json({ gpuId: "gpu-00001", status });

function refused(): never {
  throw new TypeError("fetch failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:40123"), { code: "ECONNREFUSED" }),
  });
}

describe("watchEdge", () => {
  it("polls every 100 ms until the field shows the value, and says after how long", async () => {
    const clock = new ManualClock();
    const { sleep, delays } = recordingSleep(clock);
    const scripted = scriptedFetch([
      gpu("available"),
      () => new Response("busy", { status: 503 }),
      gpu("busy"),
    ]);
    const result = await watchEdge("http://127.0.0.1:40001/", busy, { fetch: scripted.fetch, clock, sleep });
    expect(result).toEqual({ kind: "shown", afterMs: 200 });
    expect(delays).toEqual([DEFAULT_EDGE_POLL_MS, DEFAULT_EDGE_POLL_MS]);
    expect(new Set(scripted.urls)).toEqual(new Set(["http://127.0.0.1:40001/v1/gpus/gpu-00001"]));
    expect(describeEdgeWatch(busy, result)).toEqual({
      ok: true,
      line: 'edge: /v1/gpus/gpu-00001 shows "status":"busy" after 200 ms',
    });
  });

  it("gives up after the wait, saying what the edge showed last", async () => {
    const clock = new ManualClock();
    const { sleep, delays } = recordingSleep(clock);
    const scripted = scriptedFetch([gpu("available")]);
    const result = await watchEdge("http://127.0.0.1:40001", busy, { fetch: scripted.fetch, clock, sleep });
    expect(result).toEqual({
      kind: "not-shown",
      afterMs: DEFAULT_EDGE_WATCH_MS,
      last: 'shows "status":"available"',
    });
    expect(delays.reduce((sum, ms) => sum + ms, 0)).toBe(DEFAULT_EDGE_WATCH_MS);
    expect(scripted.urls).toHaveLength(DEFAULT_EDGE_WATCH_MS / DEFAULT_EDGE_POLL_MS + 1);
    expect(describeEdgeWatch(busy, result)).toEqual({
      ok: false,
      line: 'edge: /v1/gpus/gpu-00001 did not show "status":"busy" within 5000 ms (it shows "status":"available")',
    });
  });

  it("never sleeps past the wait", async () => {
    const clock = new ManualClock();
    const { sleep, delays } = recordingSleep(clock);
    const scripted = scriptedFetch([() => new Response("nope", { status: 502 })]);
    const result = await watchEdge("http://127.0.0.1:40001", busy, {
      fetch: scripted.fetch,
      clock,
      sleep,
      timeoutMs: 250,
    });
    expect(delays).toEqual([100, 100, 50]);
    expect(result).toEqual({ kind: "not-shown", afterMs: 250, last: "answers 502" });
  });

  it("stops at once, naming the URL, when nothing listens there", async () => {
    const clock = new ManualClock();
    const { sleep, delays } = recordingSleep(clock);
    const result = await watchEdge("http://127.0.0.1:40123", busy, {
      fetch: scriptedFetch([refused]).fetch,
      clock,
      sleep,
    });
    expect(delays).toEqual([]);
    expect(describeEdgeWatch(busy, result)).toEqual({
      ok: false,
      line: "edge: could not reach the edge at http://127.0.0.1:40123/v1/gpus/gpu-00001 (ECONNREFUSED)",
    });
  });
});

describe("edgeExpectationFor", () => {
  const gpuRecord = { gpuId: "gpu-00007", status: "busy", pricePerHour: 2.5 };
  it.for([
    [
      "booking.created",
      { booking: {}, gpu: gpuRecord },
      { path: "/v1/gpus/gpu-00007", field: "status", value: "busy" },
    ],
    [
      "booking.cancelled",
      { booking: {}, gpu: { ...gpuRecord, status: "available" } },
      { path: "/v1/gpus/gpu-00007", field: "status", value: "available" },
    ],
    [
      "gpu.status_changed",
      { gpu: gpuRecord },
      { path: "/v1/gpus/gpu-00007", field: "status", value: "busy" },
    ],
    [
      "pricing.updated",
      { price: {}, gpus: [gpuRecord] },
      { path: "/v1/gpus/gpu-00007", field: "pricePerHour", value: 2.5 },
    ],
    [
      "provider.status_changed",
      { provider: { providerId: "prov-005", status: "maintenance" }, gpus: [] },
      { path: "/v1/providers/prov-005", field: "status", value: "maintenance" },
    ],
    ["pricing.updated", { price: {}, gpus: [] }, undefined],
    ["cache.invalidate", { tags: ["gpu:gpu-00007"], paths: [] }, undefined],
  ] as const)("%s", ([type, data, expected]) => {
    const events = [marketplaceEvent(type, 1, data), marketplaceEvent("market.stats_updated", 1, {})];
    expect(edgeExpectationFor(events)).toEqual(expected);
  });
});

describe("fetchFailureReason", () => {
  it("finds the system's code wherever fetch put it", () => {
    expect(() => refused()).toThrow(TypeError);
    let caught: unknown;
    try {
      refused();
    } catch (error) {
      caught = error;
    }
    expect(fetchFailureReason(caught)).toBe("ECONNREFUSED");
    const both = new AggregateError([Object.assign(new Error("::1"), { code: "ECONNREFUSED" })], "");
    expect(fetchFailureReason(new TypeError("fetch failed", { cause: both }))).toBe("ECONNREFUSED");
    expect(fetchFailureReason(new DOMException("The operation timed out.", "TimeoutError"))).toBe(
      "timed out",
    );
    expect(fetchFailureReason(new TypeError("fetch failed", { cause: new Error("other side closed") }))).toBe(
      "other side closed",
    );
  });
});
