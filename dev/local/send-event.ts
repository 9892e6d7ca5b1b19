/**
 * npm run event -- <type> [options]: changes the sample origin the way the booking
 * system would, then sends the matching signed webhook (with the market stats the
 * change produced) to the event app, prints its answer (what became of each event, and the
 * delivery's sync token), and watches the edge until it shows the change (exit 1 if it does not
 * within --wait), sending the token as `X-Sync-Token` so the first read should show it.
 *
 *   booking.created --gpu <gpuId> [--user <userId>]   (prints the booking id and the cancel command)
 *   booking.cancelled --booking <bookingId>
 *   gpu.status_changed --gpu <gpuId> --status available|busy|maintenance|offline
 *   pricing.updated --type <gpuType> --region <region> --price <perHour>
 *   provider.status_changed --provider <providerId> --status active|maintenance|offline
 *   cache.invalidate --tags <tag,tag> [--paths </v1/gpus*,…>]
 *   any type: --wait <ms> (how long to watch the edge, default 5000; 0: do not watch)
 *
 * Where: the running `npm start`'s state file (dev/local/stack-state.ts); EVENTS_URL,
 * ORIGIN_URL and EDGE_URL win over it. WEBHOOK_SECRET (default: the local development secret,
 * when the stack uses it too).
 */
import { parseArgs } from "node:util";
import { EVENT_TYPES } from "../../core/events";
import { DEFAULT_EDGE_WATCH_MS, describeEdgeWatch, edgeExpectationFor, watchEdge } from "./edge-watch";
import {
  deliverEvents,
  describeEventsAnswer,
  marketplaceEvent,
  originAdmin,
  syncTokenOf,
  type WebhookEvent,
} from "./marketplace-events";
import { DEFAULT_WEBHOOK_SECRET } from "./stack";
import { eventCommand, resolveStackTargets, StackStateError } from "./stack-state";

const USAGE = `usage: npm run event -- <type> [options] [--wait <ms>]
  booking.created --gpu <gpuId> [--user <userId>]
  booking.cancelled --booking <bookingId>
  gpu.status_changed --gpu <gpuId> --status available|busy|maintenance|offline
  pricing.updated --type <gpuType> --region <region> --price <perHour>
  provider.status_changed --provider <providerId> --status active|maintenance|offline
  cache.invalidate --tags <tag,tag> [--paths </v1/gpus*,...>]`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        gpu: { type: "string" },
        user: { type: "string" },
        booking: { type: "string" },
        status: { type: "string" },
        type: { type: "string" },
        region: { type: "string" },
        price: { type: "string" },
        provider: { type: "string" },
        tags: { type: "string" },
        paths: { type: "string" },
        wait: { type: "string" },
      },
    });
  } catch (error) {
    console.error(`event: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function waitMs(): number {
  if (values.wait === undefined) return DEFAULT_EDGE_WATCH_MS;
  const ms = Number(values.wait);
  if (values.wait === "" || !Number.isInteger(ms) || ms < 0)
    throw new UsageError(`--wait must be a whole number of milliseconds ≥ 0, got '${values.wait}'`);
  return ms;
}

async function buildEvents(
  origin: ReturnType<typeof originAdmin>,
  type: string,
): Promise<{ events: WebhookEvent[]; bookingId?: string }> {
  switch (type) {
    case "booking.created": {
      const { booking, events } = await origin.bookGpu(required("gpu"), values.user ?? "user-cli");
      return { events, bookingId: booking.bookingId };
    }
    case "booking.cancelled":
      return { events: await origin.cancelBooking(required("booking")) };
    case "gpu.status_changed":
      return { events: await origin.setGpuStatus(required("gpu"), required("status")) };
    case "pricing.updated": {
      const pricePerHour = Number(required("price"));
      if (!Number.isFinite(pricePerHour) || pricePerHour < 0)
        throw new UsageError("--price must be a number ≥ 0");
      return { events: await origin.setPrice(required("type"), required("region"), pricePerHour) };
    }
    case "provider.status_changed":
      return { events: await origin.setProviderStatus(required("provider"), required("status")) };
    case "cache.invalidate":
      return {
        events: [
          marketplaceEvent(type, 0, {
            tags: required("tags").split(",").filter(Boolean),
            paths: (values.paths ?? "").split(",").filter(Boolean),
          }),
        ],
      };
    default:
      throw new UsageError(
        `unknown or unsupported event type '${type}' (this command sends: ${EVENT_TYPES.filter((name) => !["gpu.upserted", "market.stats_updated", "orderbook.updated"].includes(name)).join(", ")})`,
      );
  }
}

try {
  const [type] = positionals;
  if (!type) throw new UsageError("the event type is required");
  const wait = waitMs();
  const targets = resolveStackTargets();
  if (!process.env.WEBHOOK_SECRET && targets.webhookSecret === "custom")
    throw new StackStateError(
      `the local stack recorded in ${targets.statePath} signs webhooks with its own WEBHOOK_SECRET: set the same WEBHOOK_SECRET here`,
    );
  const secret = process.env.WEBHOOK_SECRET || DEFAULT_WEBHOOK_SECRET;

  const { events, bookingId } = await buildEvents(originAdmin(targets.originUrl), type);
  const answer = await deliverEvents(targets.eventsUrl, secret, events).catch((error: unknown) => {
    // The origin has changed already, as the booking system's would before its webhook fails.
    if (bookingId)
      (error as Error).message +=
        `; booking ${bookingId} was made on the origin all the same (once the event app answers, ${eventCommand(["booking.cancelled", "--booking", bookingId])} cancels it)`;
    throw error;
  });
  for (const line of describeEventsAnswer(targets.eventsUrl, answer)) console.log(line);
  if (answer.status === 401)
    console.error("event: the event app refused the signature: use the WEBHOOK_SECRET npm start runs with");
  let ok = answer.status === 202;
  const expectation = edgeExpectationFor(events);
  if (ok && expectation && wait > 0) {
    if (!targets.edgeUrl) {
      console.error(
        "event: the edge was not watched: set EDGE_URL too, or leave EVENTS_URL and ORIGIN_URL unset to use npm start's",
      );
    } else {
      const watched = describeEdgeWatch(
        expectation,
        // With the delivery's token, as a client reading its own write: the first read should show it.
        await watchEdge(targets.edgeUrl, expectation, { timeoutMs: wait, syncToken: syncTokenOf(answer) }),
      );
      (watched.ok ? console.log : console.error)(watched.line);
      ok = watched.ok;
    }
  }
  // Last, so the command to paste is the final line; the booking exists whatever the edge showed.
  if (bookingId) {
    console.log(`booking: ${bookingId}`);
    console.log(`next: ${eventCommand(["booking.cancelled", "--booking", bookingId])}`);
  }
  process.exit(ok ? 0 : 1);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`event: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`event: ${(error as Error).message}`);
  process.exit(1);
}
