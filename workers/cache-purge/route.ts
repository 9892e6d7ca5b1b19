/**
 * POST /_cache/purge: purges the cache in front of the Worker (Workers Cache) for a caller
 * holding PURGE_WEBHOOK_SECRETS, signed per Standard Webhooks (core/webhook-signature.ts).
 * Order: the endpoint exists only with secrets (404 otherwise, as if it did not) → signature
 * headers present (401) → body within its cap (400) → signature (401) → body valid (400) →
 * purge (200, or 503 with Retry-After when the cache refused). Every answer is
 * `Cache-Control: no-store`: a purge answer must never be served from a cache.
 */
import type { Context } from "hono";
import { EDGE_PURGE_PATH } from "../../core/edge-purge";
import { verifyWebhook, WEBHOOK_HEADER_NAMES } from "../../core/webhook-signature";
import { BodyTooLargeError, readBoundedBody } from "./bounded-body";
import type { EdgeCachePurger } from "./edge-purger";
import { httpFrontPurger } from "./http-front-purger";
import {
  InvalidPurgeRequestError,
  MAX_PURGE_BODY_BYTES,
  type PurgeRequest,
  parsePurgeBody,
} from "./purge-request";
import { type WorkersCacheContext, workersCachePurger } from "./workers-cache-purger";

export const CACHE_PURGE_PATH = EDGE_PURGE_PATH;

export interface CachePurgeSettings {
  /** Signing secrets (`whsec_…`, two during a rotation); undefined: the endpoint does not exist. */
  readonly secrets: readonly string[] | undefined;
  /** The HTTP-protocol front cache to purge where `ctx.cache` is absent. */
  readonly edgeCachePurgeUrl: string | undefined;
  readonly nowSeconds: () => number;
  readonly logger: Pick<Console, "warn">;
}

type Env = { Bindings: Record<string, unknown> };

const NO_STORE = { "Cache-Control": "no-store" } as const;
/** No detail that would help an attacker tell which check failed (the log has it). */
const UNAUTHORIZED = { success: false, errors: ["invalid or missing webhook signature"] };

/** Workers Cache when the platform gives one, else the configured HTTP front, else nothing. */
function purgerFor(
  cache: WorkersCacheContext | undefined,
  edgeCachePurgeUrl: string | undefined,
): EdgeCachePurger | undefined {
  if (cache) return workersCachePurger(cache);
  if (edgeCachePurgeUrl) return httpFrontPurger({ url: edgeCachePurgeUrl });
  return undefined;
}

/** `ctx.cache` of the invocation; Hono throws when a test app was given no context at all. */
function cacheContextOf(c: Context<Env>): WorkersCacheContext | undefined {
  try {
    return (c.executionCtx as { cache?: WorkersCacheContext }).cache;
  } catch {
    return undefined;
  }
}

export function cachePurgeHandler(settingsOf: (env: Record<string, unknown>) => CachePurgeSettings) {
  return async (c: Context<Env>): Promise<Response> => {
    const settings = settingsOf(c.env);
    const secrets = settings.secrets;
    if (!secrets || secrets.length === 0) return c.notFound();
    if (WEBHOOK_HEADER_NAMES.some((name) => !c.req.header(name))) {
      settings.logger.warn("cache purge refused: missing signature headers");
      return c.json(UNAUTHORIZED, 401, NO_STORE);
    }

    let body: Uint8Array;
    try {
      body = await readBoundedBody(c.req.raw, MAX_PURGE_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        return c.json({ success: false, errors: [error.message] }, 400, NO_STORE);
      throw error;
    }

    const verdict = await verifyWebhook(secrets, c.req.raw.headers, body, settings.nowSeconds());
    if (!verdict.ok) {
      settings.logger.warn(`cache purge refused: ${verdict.reason}`);
      return c.json(UNAUTHORIZED, 401, NO_STORE);
    }

    let request: PurgeRequest;
    try {
      request = parsePurgeBody(body);
    } catch (error) {
      if (error instanceof InvalidPurgeRequestError) {
        return c.json({ success: false, errors: error.problems }, 400, NO_STORE);
      }
      throw error;
    }

    const purger = purgerFor(cacheContextOf(c), settings.edgeCachePurgeUrl);
    if (!purger) return c.json({ success: false, errors: ["no edge cache to purge"] }, 503, NO_STORE);
    const outcome = await purger.purge(request);
    if (outcome.ok) return c.json({ success: true, errors: [] }, 200, NO_STORE);
    settings.logger.warn(`cache purge ${verdict.id} failed at ${purger.name}: ${outcome.errors.join("; ")}`);
    return c.json({ success: false, errors: outcome.errors }, 503, {
      ...NO_STORE,
      "Retry-After": String(outcome.retryAfterSeconds),
    });
  };
}
