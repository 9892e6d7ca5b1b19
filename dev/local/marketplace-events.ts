/**
 * What the booking system does on a change, for local use: change the sample origin
 * through its admin API, build the matching events (with the market stats the change
 * produced), and deliver them signed the Standard Webhooks way. `npm run event` and the
 * benchmarks share it, so both send exactly what the event contract says.
 */
import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { Booking, Gpu, MarketStats, Price, Provider } from "../../core/domain";
import { fetchFailureReason, fetchNamed } from "./unreachable";

export interface WebhookEvent {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly version: number;
  readonly data: unknown;
}

export class OriginAdminError extends Error {
  override readonly name = "OriginAdminError";
}

export function marketplaceEvent(type: string, version: number, data: unknown): WebhookEvent {
  return { id: `evt-${randomUUID()}`, type, occurredAt: new Date().toISOString(), version, data };
}

function statsEvents(stats: readonly MarketStats[]): WebhookEvent[] {
  return stats.map((item) => marketplaceEvent("market.stats_updated", item.version, { stats: item }));
}

/** Changes the sample origin the way the booking system would, and returns the events that announce it. */
export function originAdmin(originUrl: string) {
  const base = originUrl.replace(/\/+$/, "");
  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${base}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new OriginAdminError(`could not reach the origin at ${url} (${fetchFailureReason(error)})`, {
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok)
      throw new OriginAdminError(`origin ${method} ${url} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  return {
    async bookGpu(gpuId: string, userId = "user-cli"): Promise<{ booking: Booking; events: WebhookEvent[] }> {
      const result = await admin<{ booking: Booking; gpu: Gpu; marketStats: MarketStats[] }>(
        "POST",
        "/_admin/bookings",
        { gpuId, userId },
      );
      return {
        booking: result.booking,
        events: [
          marketplaceEvent("booking.created", result.gpu.version, {
            booking: result.booking,
            gpu: result.gpu,
          }),
          ...statsEvents(result.marketStats),
        ],
      };
    },

    async cancelBooking(bookingId: string): Promise<WebhookEvent[]> {
      const result = await admin<{ booking: Booking; gpu: Gpu; marketStats: MarketStats[] }>(
        "POST",
        `/_admin/bookings/${encodeURIComponent(bookingId)}/cancel`,
      );
      return [
        marketplaceEvent("booking.cancelled", result.gpu.version, {
          booking: result.booking,
          gpu: result.gpu,
        }),
        ...statsEvents(result.marketStats),
      ];
    },

    async setGpuStatus(gpuId: string, status: string): Promise<WebhookEvent[]> {
      const result = await admin<{ gpu: Gpu; marketStats: MarketStats[] }>(
        "POST",
        `/_admin/gpus/${encodeURIComponent(gpuId)}/status`,
        { status },
      );
      return [
        marketplaceEvent("gpu.status_changed", result.gpu.version, { gpu: result.gpu }),
        ...statsEvents(result.marketStats),
      ];
    },

    async setPrice(gpuType: string, region: string, pricePerHour: number): Promise<WebhookEvent[]> {
      const result = await admin<{ price: Price; gpus: Gpu[]; marketStats: MarketStats[] }>(
        "POST",
        "/_admin/pricing",
        { gpuType, region, pricePerHour },
      );
      return [
        marketplaceEvent("pricing.updated", result.price.version, { price: result.price, gpus: result.gpus }),
        ...statsEvents(result.marketStats),
      ];
    },

    async setProviderStatus(providerId: string, status: string): Promise<WebhookEvent[]> {
      const result = await admin<{ provider: Provider; gpus: Gpu[]; marketStats: MarketStats[] }>(
        "POST",
        `/_admin/providers/${encodeURIComponent(providerId)}/status`,
        { status },
      );
      return [
        marketplaceEvent("provider.status_changed", result.provider.version, {
          provider: result.provider,
          gpus: result.gpus,
        }),
        ...statsEvents(result.marketStats),
      ];
    },
  };
}

/** The request a signed webhook delivery of `events` makes (one event alone, or a batch). */
export function signedDelivery(
  secret: string,
  events: readonly WebhookEvent[],
  now = new Date(),
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(events.length === 1 ? events[0] : { events });
  const id = `msg_${randomUUID()}`;
  return {
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, now, body),
    },
  };
}

/**
 * Delivers `events` to the event app; resolves with its status and body. Throws UnreachableError
 * naming `eventsUrl` when nothing answers there.
 */
export async function deliverEvents(
  eventsUrl: string,
  secret: string,
  events: readonly WebhookEvent[],
): Promise<{ status: number; body: string }> {
  const { headers, body } = signedDelivery(secret, events);
  const response = await fetchNamed("the event app", eventsUrl, { method: "POST", headers, body });
  return { status: response.status, body: await response.text() };
}

/** The event app's answer as JSON, or undefined when it is not a JSON object. */
function answerBody(answer: { body: string }): { results?: unknown; syncToken?: unknown } | undefined {
  try {
    const body: unknown = JSON.parse(answer.body);
    return typeof body === "object" && body !== null ? body : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The delivery's `syncToken` from a 202 (docs/read-your-own-writes.md): sent back as
 * `X-Sync-Token`, it makes the edge show the delivery's changes on the next read.
 */
export function syncTokenOf(answer: { status: number; body: string }): string | undefined {
  const token = answer.status === 202 ? answerBody(answer)?.syncToken : undefined;
  return typeof token === "string" ? token : undefined;
}

/**
 * The event app's answer as lines to print: the status and URL, then one line per event with what
 * became of it, then the delivery's sync token (lambdas/events/app.ts answers
 * `{results: [{id, type, status, purge}], syncToken}` on 202).
 */
export function describeEventsAnswer(eventsUrl: string, answer: { status: number; body: string }): string[] {
  const results = answerBody(answer)?.results;
  if (!Array.isArray(results)) return [`events: ${answer.status} from ${eventsUrl}: ${answer.body}`];
  const token = syncTokenOf(answer);
  return [
    `events: ${answer.status} from ${eventsUrl}`,
    ...results.map((result: { id?: unknown; type?: unknown; status?: unknown; purge?: unknown }) => {
      const purge = result.purge === undefined ? "" : `, purge ${String(result.purge)}`;
      return `  ${String(result.type)} ${String(result.id)}: ${String(result.status)}${purge}`;
    }),
    ...(token === undefined
      ? []
      : [`  sync token: ${token} (send it as X-Sync-Token to read these changes at once)`]),
  ];
}
