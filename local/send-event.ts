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
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import type { Booking, Gpu, MarketStats, Price, Provider } from "../core/domain";
import { EVENT_TYPES } from "../core/events";
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

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${originUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`origin ${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

function event(type: string, version: number, data: unknown) {
  return { id: `evt-${randomUUID()}`, type, occurredAt: new Date().toISOString(), version, data };
}

function statsEvents(stats: readonly MarketStats[]) {
  return stats.map((item) => event("market.stats_updated", item.version, { stats: item }));
}

async function buildEvents(type: string) {
  switch (type) {
    case "booking.created": {
      const result = await admin<{ booking: Booking; gpu: Gpu; marketStats: MarketStats[] }>(
        "POST",
        "/_admin/bookings",
        {
          gpuId: required("gpu"),
          userId: values.user ?? "user-cli",
        },
      );
      return [
        event(type, result.gpu.version, { booking: result.booking, gpu: result.gpu }),
        ...statsEvents(result.marketStats),
      ];
    }
    case "booking.cancelled": {
      const result = await admin<{ booking: Booking; gpu: Gpu; marketStats: MarketStats[] }>(
        "POST",
        `/_admin/bookings/${encodeURIComponent(required("booking"))}/cancel`,
      );
      return [
        event(type, result.gpu.version, { booking: result.booking, gpu: result.gpu }),
        ...statsEvents(result.marketStats),
      ];
    }
    case "gpu.status_changed": {
      const result = await admin<{ gpu: Gpu; marketStats: MarketStats[] }>(
        "POST",
        `/_admin/gpus/${encodeURIComponent(required("gpu"))}/status`,
        { status: required("status") },
      );
      return [event(type, result.gpu.version, { gpu: result.gpu }), ...statsEvents(result.marketStats)];
    }
    case "pricing.updated": {
      const pricePerHour = Number(required("price"));
      if (!Number.isFinite(pricePerHour) || pricePerHour < 0)
        throw new UsageError("--price must be a number ≥ 0");
      const result = await admin<{ price: Price; gpus: Gpu[]; marketStats: MarketStats[] }>(
        "POST",
        "/_admin/pricing",
        {
          gpuType: required("type"),
          region: required("region"),
          pricePerHour,
        },
      );
      return [
        event(type, result.price.version, { price: result.price, gpus: result.gpus }),
        ...statsEvents(result.marketStats),
      ];
    }
    case "provider.status_changed": {
      const result = await admin<{ provider: Provider; gpus: Gpu[]; marketStats: MarketStats[] }>(
        "POST",
        `/_admin/providers/${encodeURIComponent(required("provider"))}/status`,
        { status: required("status") },
      );
      return [
        event(type, result.provider.version, { provider: result.provider, gpus: result.gpus }),
        ...statsEvents(result.marketStats),
      ];
    }
    case "cache.invalidate":
      return [
        event(type, 0, {
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
  const events = await buildEvents(type);
  const payload = JSON.stringify(events.length === 1 ? events[0] : { events });
  const id = `msg_${randomUUID()}`;
  const now = new Date();
  const response = await fetch(eventsUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, now, payload),
    },
    body: payload,
  });
  console.log(`${response.status} ${await response.text()}`);
  process.exit(response.status === 202 ? 0 : 1);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`event: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`event: ${(error as Error).message}`);
  process.exit(1);
}
