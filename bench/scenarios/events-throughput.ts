/**
 * 5. Event throughput: signed webhooks through the event app with real Redis behind the
 * bridge and the purges going to the CDN fakes, as deployed. Round trips are the REST
 * requests the event app's bridge served, per event.
 */
import { runLoad } from "../lib/load";
import type { BenchProfile } from "../lib/profile";
import type { BenchResults } from "../lib/results";
import { type BenchServices, WEBHOOK_SECRET } from "../lib/services";

/** Deliveries in flight: a booking system sends several at once, but not hundreds. */
const IN_FLIGHT = 16;
const BATCH_SIZE = 100;

async function measure(
  services: BenchServices,
  events: number,
  batchSize: number,
  version: number,
): Promise<{ events: number; eventsPerSecond: number; roundTripsPerEvent: number }> {
  const before = (await services.eventsBridge.usage()).requests;
  const deliveries = Math.max(1, Math.round(events / batchSize));
  const load = await runLoad({
    url: services.pipeline.url,
    plan: {
      kind: "events",
      secret: WEBHOOK_SECRET,
      batchSize,
      version,
      idPrefix: `bench-${batchSize}-${version}`,
    },
    connections: Math.min(IN_FLIGHT, deliveries),
    amount: deliveries,
  });
  if (load.non2xx > 0 || load.errors > 0)
    throw new Error(`events: ${load.non2xx} non-2xx answers and ${load.errors} errors of ${load.requests}`);
  const sent = load.requests * batchSize;
  const roundTrips = (await services.eventsBridge.usage()).requests - before;
  return { events: sent, eventsPerSecond: load.rps * batchSize, roundTripsPerEvent: roundTrips / sent };
}

export async function runEventsThroughput(
  services: BenchServices,
  profile: BenchProfile,
): Promise<Pick<BenchResults, "eventsPerSecond" | "redisRoundTripsPerEvent" | "events">> {
  // Unmeasured first: on this stack the event path (app, SDKs, bridge, fakes) speeds up over its first
  // several thousand events (measured: ~330/s for the first 1,000, ~980/s after 8,000), which would
  // otherwise decide a short run's figure.
  await measure(services, profile.eventsWarmup, 1, 1);
  const single = await measure(services, profile.singleEvents, 1, 2);
  const batched = await measure(services, profile.batchedEvents, BATCH_SIZE, 3);
  return {
    eventsPerSecond: single.eventsPerSecond,
    redisRoundTripsPerEvent: single.roundTripsPerEvent,
    events: { single, batched: { ...batched, batchSize: BATCH_SIZE } },
  };
}
