/** What `npm run event` prints of the event app's answer, and the errors that name the URL tried. */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  deliverEvents,
  describeEventsAnswer,
  marketplaceEvent,
  OriginAdminError,
  originAdmin,
} from "../../../dev/local/marketplace-events";
import { UnreachableError } from "../../../dev/local/unreachable";

const EVENTS_URL = "http://127.0.0.1:40004/v1/events";

/** A port nothing listens on: taken from the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject()));
    });
  });
}

describe("describeEventsAnswer", () => {
  it("prints the status and URL, then what became of each event", () => {
    const body = JSON.stringify({
      results: [
        { id: "evt-1", type: "booking.created", status: "applied", purge: "done" },
        { id: "evt-2", type: "market.stats_updated", status: "stale", purge: "pending" },
      ],
    });
    expect(describeEventsAnswer(EVENTS_URL, { status: 202, body })).toEqual([
      `events: 202 from ${EVENTS_URL}`,
      "  booking.created evt-1: applied, purge done",
      "  market.stats_updated evt-2: stale, purge pending",
    ]);
  });

  it("prints any other answer whole", () => {
    const body = '{"error":"invalid signature"}';
    expect(describeEventsAnswer(EVENTS_URL, { status: 401, body })).toEqual([
      `events: 401 from ${EVENTS_URL}: ${body}`,
    ]);
  });
});

describe("a local service that does not answer", () => {
  it("is named with the URL tried and the reason", async () => {
    const port = await closedPort();
    const eventsUrl = `http://127.0.0.1:${port}/v1/events`;
    const delivery = deliverEvents(eventsUrl, "whsec_dGVzdA==", [
      marketplaceEvent("cache.invalidate", 0, {}),
    ]);
    await expect(delivery).rejects.toThrow(UnreachableError);
    await expect(delivery).rejects.toThrow(`could not reach the event app at ${eventsUrl} (ECONNREFUSED)`);
    const booking = originAdmin(`http://127.0.0.1:${port}/`).bookGpu("gpu-00001");
    await expect(booking).rejects.toThrow(OriginAdminError);
    await expect(booking).rejects.toThrow(
      `could not reach the origin at http://127.0.0.1:${port}/_admin/bookings (ECONNREFUSED)`,
    );
  });
});
