/**
 * npm run event -- <type> [options]: changes the sample origin the way the booking
 * system would, then sends the matching signed webhook (with the market stats the
 * change produced) to the event app, and prints the answer.
 *
 *   booking.created --gpu <gpuId> [--user <userId>]
 *   booking.cancelled --booking <bookingId>
 *   gpu.status_changed --gpu <gpuId> --status available|busy|maintenance|offline
 *   pricing.updated --type <gpuType> --region <region> --price <perHour>
 *   provider.status_changed --provider <providerId> --status active|maintenance|offline
 *   cache.invalidate --tags <tag,tag> [--paths </v1/gpus*,…>]
 *
 * Environment: EVENTS_URL (default http://127.0.0.1:8790/v1/events), ORIGIN_URL
 * (default http://127.0.0.1:8788), WEBHOOK_SECRET (default: the local development secret).
 */
import { parseArgs } from "node:util";
import { EVENT_TYPES } from "../../core/events";
import { deliverEvents, marketplaceEvent, originAdmin } from "./marketplace-events";
import { DEFAULT_WEBHOOK_SECRET } from "./stack";

const USAGE = `usage: npm run event -- <type> [options]
  booking.created --gpu <gpuId> [--user <userId>]
  booking.cancelled --booking <bookingId>
  gpu.status_changed --gpu <gpuId> --status available|busy|maintenance|offline
  pricing.updated --type <gpuType> --region <region> --price <perHour>
  provider.status_changed --provider <providerId> --status active|maintenance|offline
  cache.invalidate --tags <tag,tag> [--paths </v1/gpus*,...>]`;

class UsageError extends Error {}

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
      },
    });
  } catch (error) {
    console.error(`event: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();

const originUrl = (process.env.ORIGIN_URL ?? "http://127.0.0.1:8788").replace(/\/+$/, "");
const eventsUrl = process.env.EVENTS_URL ?? "http://127.0.0.1:8790/v1/events";
const secret = process.env.WEBHOOK_SECRET ?? DEFAULT_WEBHOOK_SECRET;

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

const origin = originAdmin(originUrl);

async function buildEvents(type: string) {
  switch (type) {
    case "booking.created":
      return (await origin.bookGpu(required("gpu"), values.user ?? "user-cli")).events;
    case "booking.cancelled":
      return origin.cancelBooking(required("booking"));
    case "gpu.status_changed":
      return origin.setGpuStatus(required("gpu"), required("status"));
    case "pricing.updated": {
      const pricePerHour = Number(required("price"));
      if (!Number.isFinite(pricePerHour) || pricePerHour < 0)
        throw new UsageError("--price must be a number ≥ 0");
      return origin.setPrice(required("type"), required("region"), pricePerHour);
    }
    case "provider.status_changed":
      return origin.setProviderStatus(required("provider"), required("status"));
    case "cache.invalidate":
      return [
        marketplaceEvent(type, 0, {
          tags: required("tags").split(",").filter(Boolean),
          paths: (values.paths ?? "").split(",").filter(Boolean),
        }),
      ];
    default:
      throw new UsageError(
        `unknown or unsupported event type '${type}' (this command sends: ${EVENT_TYPES.filter((name) => !["gpu.upserted", "market.stats_updated", "orderbook.updated"].includes(name)).join(", ")})`,
      );
  }
}

try {
  const [type] = positionals;
  if (!type) throw new UsageError("the event type is required");
  const answer = await deliverEvents(eventsUrl, secret, await buildEvents(type));
  console.log(`${answer.status} ${answer.body}`);
  process.exit(answer.status === 202 ? 0 : 1);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`event: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`event: ${(error as Error).message}`);
  process.exit(1);
}
