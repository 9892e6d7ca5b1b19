/**
 * The webhook app: `POST /v1/events`, signed per Standard Webhooks. Runs on Lambda
 * (Hono's AWS Lambda adapter, behind a Function URL) and on Node for the local stack.
 *
 * Order per request: content type (415) → size (413, before reading past the cap) → verify
 * (401) → parse, all or nothing (400) → one atomic Redis step per event → purges for the
 * events that still owe them → 202 with each event's status and the delivery's `syncToken` (the
 * log position its clients send back as `X-Sync-Token` to read their own writes at the edge).
 *
 * Each delivery is logged and measured (./delivery-report.ts): one line per event, an audit
 * line per operator `cache.invalidate`, one line for the delivery, and the events' metrics.
 * Lines about a delivery carry its `webhook-id` only once the signature, which covers that
 * id, is verified: before that it is anyone's text.
 */
import { Hono } from "hono";
import { Webhook } from "standardwebhooks";
import { BodyTooLargeError, readBoundedText } from "../../core/bounded-body";
import {
  InvalidEventError,
  MAX_EVENT_BODY_BYTES,
  type MarketplaceEvent,
  parseEventBody,
} from "../../core/events";
import { type Clock, systemClock } from "../../core/time/clock";
import { describeError, type Logger, loggedIds, withFields } from "../shared/logger";
import { type Metrics, NO_METRICS } from "../shared/metrics";
import type { ApplyResult, EventApplier } from "./apply";
import { deliverySyncToken, type LogEndReader, reportDelivery, signingKeyId } from "./delivery-report";

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
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Wall-clock time: latencies, and the propagation delay from each event's `occurredAt` (default the system clock). */
  readonly clock?: Clock;
  /**
   * Reads where the invalidation log ends (./delivery-report.ts invalidationLogEnd): the
   * `syncToken` of a delivery that applied nothing new. Without it such a delivery has none.
   */
  readonly logEnd?: LogEndReader;
}

const SIGNATURE_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;

/** No detail that would help an attacker tell which check failed. */
const UNAUTHORIZED = { error: "invalid or missing webhook signature" };

const UNAVAILABLE = { error: "temporarily unable to apply events; retry the delivery" };

/**
 * Standard Webhooks senders deliver `Content-Type: application/json` (so does the booking
 * system's, dev/local/marketplace-events.ts). The signature covers the body, not this header:
 * a body sent as anything else is refused before it is verified or applied.
 */
const JSON_CONTENT_TYPE = /^\s*application\/json\s*(?:;\s*charset\s*=\s*(?:utf-8|"utf-8")\s*)?$/i;

export function createEventsApp(options: EventsAppOptions): Hono {
  if (options.secrets.length === 0) throw new TypeError("at least one webhook signing secret is required");
  const verifiers = options.secrets.map((secret) => ({
    verifier: new Webhook(secret),
    keyId: signingKeyId(secret),
  }));
  const logger = options.logger ?? console;
  const metrics = options.metrics ?? NO_METRICS;
  const clock = options.clock ?? systemClock;
  const app = new Hono();

  app.post("/v1/events", async (c) => {
    const started = clock.now();
    /** A refusal: one line with the status and why (never the body), and a count. */
    const refuse = (
      log: Pick<Logger, "warn">,
      status: 400 | 401 | 413 | 415,
      reason: string,
      path?: string,
    ) => {
      metrics.add("DeliveriesRefused", 1);
      log.warn("webhook delivery refused", {
        status,
        reason,
        ...(path !== undefined ? { path } : {}),
        latencyMs: clock.now() - started,
      });
    };

    if (!JSON_CONTENT_TYPE.test(c.req.header("content-type") ?? "")) {
      refuse(logger, 415, "content type");
      return c.json({ error: "Content-Type must be application/json" }, 415);
    }
    let payload: string;
    try {
      // Read from the raw request: a declared length over the cap is refused unread, an
      // undeclared one is not read past it.
      payload = await readBoundedText(c.req.raw, MAX_EVENT_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        refuse(logger, 413, "body too large");
        return c.json({ error: error.message }, 413);
      }
      throw error;
    }

    const headers: Record<string, string> = {};
    for (const name of SIGNATURE_HEADERS) {
      const value = c.req.header(name);
      if (!value) {
        refuse(logger, 401, `no ${name} header`);
        return c.json(UNAUTHORIZED, 401);
      }
      headers[name] = value;
    }
    let why = "signature";
    const signer = verifiers.find(({ verifier }) => {
      try {
        // Parsing is ours (a 400 for bad JSON, not a 401).
        verifier.verify(payload, headers, { jsonParse: false });
        return true;
      } catch (error) {
        // The library's fixed reasons ("No matching signature found", "Message timestamp too
        // old", …): the operator's to see, never the sender's.
        if (error instanceof Error) why = `signature: ${error.message.slice(0, 100)}`;
        return false;
      }
    });
    if (!signer) {
      refuse(logger, 401, why);
      return c.json(UNAUTHORIZED, 401);
    }
    // Signed, so the id is the sender's: every line about this delivery carries it.
    const delivery = { webhookId: headers["webhook-id"] ?? "", signingKeyId: signer.keyId };
    const log = withFields(logger, delivery);

    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      refuse(log, 400, "body is not valid JSON", "");
      return c.json({ error: "body is not valid JSON", path: "" }, 400);
    }
    let events: MarketplaceEvent[];
    try {
      events = parseEventBody(body);
    } catch (error) {
      if (error instanceof InvalidEventError) {
        // The path, not the message: a schema message may quote what it refused.
        refuse(log, 400, "invalid event", error.path);
        return c.json({ error: error.message, path: error.path }, 400);
      }
      throw error;
    }

    let results: ApplyResult[];
    let settledIds: Set<string>;
    let redisMs: number;
    let appliedAt: number;
    try {
      const redisStarted = clock.now();
      results = await options.applier.apply(events);
      appliedAt = clock.now();
      redisMs = appliedAt - redisStarted;
      metrics.add("RedisStepLatency", redisMs);
      const owed = results.filter((result) => !result.purged);
      settledIds = new Set(results.filter((result) => result.purged).map((result) => result.event.id));
      if (owed.length > 0) {
        const { settled } = await options.purges.dispatch(owed);
        await options.applier.markPurged(settled);
        settledIds = new Set([...settledIds, ...settled.map((event) => event.id)]);
      }
    } catch (error) {
      // Redis failed: nothing was applied for the failing event; the sender retries the delivery.
      metrics.add("DeliveriesUnavailable", 1);
      log.error("webhook delivery failed: events not applied", {
        status: 503,
        // Ids and types only, never their data.
        eventCount: events.length,
        eventIds: loggedIds(events.map((event) => event.id)),
        types: [...new Set(events.map((event) => event.type))],
        error: describeError(error),
        latencyMs: clock.now() - started,
      });
      return c.json(UNAVAILABLE, 503);
    }
    let syncToken: string | undefined;
    try {
      syncToken = await deliverySyncToken(results, options.logEnd);
    } catch (error) {
      // Applied and purged: the delivery succeeded. Only its clients' read-your-own-writes waits
      // for the interval this time.
      log.warn("sync token not read: the invalidation log's end could not be had", {
        error: describeError(error),
      });
    }
    reportDelivery({
      log,
      metrics,
      results,
      settledIds,
      appliedAt,
      redisMs,
      latencyMs: clock.now() - started,
    });
    return c.json(
      {
        results: results.map((result) => ({
          id: result.event.id,
          type: result.event.type,
          status: result.status,
          purge: settledIds.has(result.event.id) ? "done" : "pending",
        })),
        ...(syncToken !== undefined ? { syncToken } : {}),
      },
      202,
    );
  });

  app.all("/v1/events", (c) =>
    c.json({ error: `method ${c.req.method} is not allowed: deliver events with POST` }, 405, {
      allow: "POST",
    }),
  );

  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.onError((error, c) => {
    metrics.add("DeliveriesUnavailable", 1);
    logger.error("webhook delivery failed: unexpected error", { status: 503, error: describeError(error) });
    return c.json(UNAVAILABLE, 503);
  });
  return app;
}
