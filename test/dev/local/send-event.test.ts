/**
 * The sync token in `npm run event` (dev/local/send-event.ts): the line it prints of the event
 * app's 202, and the `X-Sync-Token` its edge watch sends. The whole command against two Worker
 * isolates: test/dev/local/read-your-own-writes.test.ts.
 */
import { describe, expect, it } from "vitest";
import { watchEdge } from "../../../dev/local/edge-watch";
import { describeEventsAnswer, syncTokenOf } from "../../../dev/local/marketplace-events";
import { ManualClock } from "../../support/manual-clock";
import { recordingSleep } from "../../support/recording-sleep";

const EVENTS_URL = "http://127.0.0.1:40004/v1/events";
const TOKEN = "1762344000123-4";
const accepted = {
  status: 202,
  body: JSON.stringify({
    results: [{ id: "evt-1", type: "booking.created", status: "applied", purge: "done" }],
    syncToken: TOKEN,
  }),
};

describe("the sync token in npm run event", () => {
  it("is printed after the events, with what to do with it", () => {
    expect(describeEventsAnswer(EVENTS_URL, accepted)).toEqual([
      `events: 202 from ${EVENTS_URL}`,
      "  booking.created evt-1: applied, purge done",
      `  sync token: ${TOKEN} (send it as X-Sync-Token to read these changes at once)`,
    ]);
    expect(syncTokenOf(accepted)).toBe(TOKEN);
  });

  it("is only taken from a 202 that has one", () => {
    const without = { status: 202, body: JSON.stringify({ results: [] }) };
    expect(syncTokenOf(without)).toBeUndefined();
    expect(describeEventsAnswer(EVENTS_URL, without)).toEqual([`events: 202 from ${EVENTS_URL}`]);
    expect(syncTokenOf({ status: 401, body: JSON.stringify({ syncToken: TOKEN }) })).toBeUndefined();
    expect(syncTokenOf({ status: 202, body: "not json" })).toBeUndefined();
    expect(syncTokenOf({ status: 202, body: JSON.stringify({ syncToken: 7 }) })).toBeUndefined();
  });

  it("is sent as X-Sync-Token by the edge watch, on every read", async () => {
    const clock = new ManualClock();
    const { sleep } = recordingSleep(clock);
    const sent: Array<string | null> = [];
    const fetchImpl = (async (_input: string | URL | Request, init?: RequestInit) => {
      sent.push(new Headers(init?.headers).get("x-sync-token"));
      return Response.json({ gpuId: "gpu-00001", status: sent.length < 2 ? "available" : "busy" });
    }) as typeof fetch;
    const expectation = { path: "/v1/gpus/gpu-00001", field: "status", value: "busy" };
    const result = await watchEdge("http://127.0.0.1:40001", expectation, {
      fetch: fetchImpl,
      clock,
      sleep,
      syncToken: TOKEN,
    });
    expect(result.kind).toBe("shown");
    expect(sent).toEqual([TOKEN, TOKEN]);

    sent.length = 0;
    await watchEdge("http://127.0.0.1:40001", expectation, { fetch: fetchImpl, clock, sleep });
    expect(sent).toEqual([null, null]);
  });
});
