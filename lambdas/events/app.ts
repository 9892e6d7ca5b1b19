/**
 * The webhook app: `POST /v1/events`, signed per Standard Webhooks. Runs on Lambda
 * (Hono's AWS Lambda adapter, behind a Function URL) and on Node for the local stack.
 *
 * Order per request: verify → parse (all or nothing) → one atomic Redis step per
 * event → purges for the events that still owe them → 202 with each event's status.
 */
import { Hono } from "hono";
import { Webhook } from "standardwebhooks";
import {
  InvalidEventError,
  MAX_EVENT_BODY_BYTES,
  type MarketplaceEvent,
  parseEventBody,
} from "../../core/events";
import type { ApplyResult, EventApplier } from "./apply";

/** Hands the purges an application owes to the CDNs (or to the retry queue when they fail). */
export interface PurgeDispatcher {
  /** Resolves with the events whose purges are done (or safely queued for retry). */
  dispatch(results: readonly ApplyResult[]): Promise<{ readonly settled: readonly MarketplaceEvent[] }>;
}

export interface EventsAppOptions {
  /** Signing secrets (`whsec_…`); two during a rotation. */
  readonly secrets: readonly string[];
  readonly applier: EventApplier;
  readonly purges: PurgeDispatcher;
  readonly logger?: Pick<Console, "warn" | "error">;
}

const SIGNATURE_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;

/** No detail that would help an attacker tell which check failed. */
const UNAUTHORIZED = { error: "invalid or missing webhook signature" };

export function createEventsApp(options: EventsAppOptions): Hono {
  if (options.secrets.length === 0) throw new TypeError("at least one webhook signing secret is required");
  const verifiers = options.secrets.map((secret) => new Webhook(secret));
  const logger = options.logger ?? console;
  const encoder = new TextEncoder();
  const app = new Hono();

  app.post("/v1/events", async (c) => {
    const declared = Number(c.req.header("content-length") ?? Number.NaN);
    if (declared > MAX_EVENT_BODY_BYTES) {
      return c.json({ error: `body exceeds ${MAX_EVENT_BODY_BYTES} bytes` }, 400);
    }
    const payload = await c.req.text();
    if (encoder.encode(payload).byteLength > MAX_EVENT_BODY_BYTES) {
      return c.json({ error: `body exceeds ${MAX_EVENT_BODY_BYTES} bytes` }, 400);
    }

    const headers: Record<string, string> = {};
    for (const name of SIGNATURE_HEADERS) {
      const value = c.req.header(name);
      if (!value) return c.json(UNAUTHORIZED, 401);
      headers[name] = value;
    }
    const verified = verifiers.some((verifier) => {
      try {
        // Parsing is ours (a 400 for bad JSON, not a 401).
        verifier.verify(payload, headers, { jsonParse: false });
        return true;
      } catch {
        return false;
      }
    });
    if (!verified) return c.json(UNAUTHORIZED, 401);

    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return c.json({ error: "body is not valid JSON", path: "" }, 400);
    }
    let events: MarketplaceEvent[];
    try {
      events = parseEventBody(body);
    } catch (error) {
      if (error instanceof InvalidEventError) return c.json({ error: error.message, path: error.path }, 400);
      throw error;
    }

    const results = await options.applier.apply(events);
    const owed = results.filter((result) => !result.purged);
    let settledIds = new Set<string>(
      results.filter((result) => result.purged).map((result) => result.event.id),
    );
    if (owed.length > 0) {
      const { settled } = await options.purges.dispatch(owed);
      await options.applier.markPurged(settled);
      settledIds = new Set([...settledIds, ...settled.map((event) => event.id)]);
    }
    return c.json(
      {
        results: results.map((result) => ({
          id: result.event.id,
          type: result.event.type,
          status: result.status,
          purge: settledIds.has(result.event.id) ? "done" : "pending",
        })),
      },
      202,
    );
  });

  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.onError((error, c) => {
    logger.error("events app: unexpected error", error);
    // Redis failed: nothing was applied for the failing event; the sender retries the delivery.
    return c.json({ error: "temporarily unable to apply events; retry the delivery" }, 503);
  });
  return app;
}
