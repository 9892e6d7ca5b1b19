/** Applied events that still owe their purges, built from real sample-origin bookings. */
import { randomUUID } from "node:crypto";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../core/data-classes";
import type { MarketplaceEvent } from "../../core/events";
import { createKeyspace } from "../../core/keys";
import { MarketplaceStore } from "../../dev/origin/store";
import type { ApplyResult } from "../../lambdas/events/apply";
import { planEvent } from "../../lambdas/events/effects";

/** `count` applied booking.created events that still owe their purges. */
export function appliedBookings(count: number, prefix = "applied"): ApplyResult[] {
  const keys = createKeyspace(prefix);
  const store = new MarketplaceStore();
  return store
    .listGpus({ status: "available" })
    .slice(0, count)
    .map((free) => {
      const { booking, gpu } = store.createBooking({ gpuId: free.gpuId, userId: "user-1" });
      const event = {
        id: `evt-${randomUUID()}`,
        type: "booking.created",
        occurredAt: new Date().toISOString(),
        version: gpu.version,
        data: { booking, gpu },
      } as MarketplaceEvent;
      return {
        event,
        plan: planEvent(event, keys, 0, DEFAULT_DATA_CLASS_POLICIES),
        status: "applied",
        purged: false,
        logId: "1-0",
      };
    });
}
