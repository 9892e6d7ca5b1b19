/**
 * POST /_cache/purge: purges the cache in front of the Worker (Workers Cache) for a caller
 * holding PURGE_WEBHOOK_SECRETS, signed per Standard Webhooks (core/webhook-signature.ts).
 * Order: the endpoint exists only with secrets (404 otherwise, as if it did not) → signature
 * headers present (401) → body within its cap (400) → signature (401) → body valid (400) →
 * purge (200, or 503 with Retry-After when the cache refused). Every answer is
 * `Cache-Control: no-store`: a purge answer must never be served from a cache. Every call,
 * whatever its answer, writes one audit line: who (`webhook-id`, and which signing key of a
 * rotation verified it), what (the target's kind and entry count, the mode) and how it ended.
 */
import type { Context } from "hono";
import { BodyTooLargeError, readBoundedBody } from "../../core/bounded-body";
import { EDGE_PURGE_PATH } from "../../core/edge-purge";
import { verifyWebhook, WEBHOOK_HEADER_NAMES } from "../../core/webhook-signature";
import type { AuditEntry, EdgeEnv } from "../telemetry";
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

/**
 * How a call ended, as its audit line and `gpu_edge_cache_operator_actions_total` say:
 * `not-configured` (404: no secrets), `unsigned` (401: a signature header missing),
 * `too-large` (400: the body past its cap), `refused` (401: the signature did not verify),
 * `invalid` (400: a signed body that is no purge request), `no-edge-cache` (503: nothing to
 * purge), `failed` (503: the cache refused or failed), `purged` (200), `error` (500: a fault,
 * such as a body stream that broke, answered by the app's error handler).
 */
export type PurgeResult =
  | "not-configured"
  | "unsigned"
  | "too-large"
  | "refused"
  | "invalid"
  | "no-edge-cache"
  | "failed"
  | "purged"
  | "error";

export const PURGE_ACTION = "cache-purge";

export interface CachePurgeSettings {
  /** Signing secrets (`whsec_…`, two during a rotation); undefined: the endpoint does not exist. */
  readonly secrets: readonly string[] | undefined;
  /** The HTTP-protocol front cache to purge where `ctx.cache` is absent. */
  readonly edgeCachePurgeUrl: string | undefined;
  readonly nowSeconds: () => number;
  /** Takes the audit line of every call (workers/telemetry/telemetry.ts). */
  readonly audit: (entry: AuditEntry) => void;
}

const NO_STORE = { "Cache-Control": "no-store" } as const;
/** No detail that would help an attacker tell which check failed (the audit line has it). */
const UNAUTHORIZED = { success: false, errors: ["invalid or missing webhook signature"] };
/** A sender's delivery id is logged, but an unsigned caller chooses it: it is cut to this. */
const MAX_LOGGED_ID_LENGTH = 128;

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
function cacheContextOf(c: Context<EdgeEnv>): WorkersCacheContext | undefined {
  try {
    return (c.executionCtx as { cache?: WorkersCacheContext }).cache;
  } catch {
    return undefined;
  }
}

/** What a purge asks for, as audit fields: the kind of target, how many entries, the mode. */
function targetFields(request: PurgeRequest) {
  const { target } = request;
  if ("tags" in target) return { target: "tags", targetCount: target.tags.length, mode: request.mode };
  if ("pathPrefixes" in target) {
    return { target: "pathPrefixes", targetCount: target.pathPrefixes.length, mode: request.mode };
  }
  return { target: "purgeEverything", targetCount: 1, mode: request.mode };
}

export function cachePurgeHandler(settingsOf: (env: Record<string, unknown>) => CachePurgeSettings) {
  return async (c: Context<EdgeEnv>): Promise<Response> => {
    const settings = settingsOf(c.env);
    const webhookId = c.req.header("webhook-id")?.slice(0, MAX_LOGGED_ID_LENGTH);
    const secrets = settings.secrets;
    // Every way out passes here or through the catch below: each call gets exactly one audit line.
    const audit = (result: PurgeResult, status: number, fields: AuditEntry["fields"] = {}) =>
      settings.audit({
        action: PURGE_ACTION,
        result,
        status,
        requestId: c.get("requestId"),
        fields: { webhookId, signingKeys: secrets?.length ?? 0, ...fields },
      });
    const answer = (result: PurgeResult, response: Response, fields: AuditEntry["fields"] = {}) => {
      audit(result, response.status, fields);
      return response;
    };

    const respond = async (): Promise<Response> => {
      if (!secrets || secrets.length === 0) return answer("not-configured", await c.notFound());
      if (WEBHOOK_HEADER_NAMES.some((name) => !c.req.header(name))) {
        return answer("unsigned", c.json(UNAUTHORIZED, 401, NO_STORE), {
          refusal: "missing signature headers",
        });
      }

      let body: Uint8Array;
      try {
        body = await readBoundedBody(c.req.raw, MAX_PURGE_BODY_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          return answer("too-large", c.json({ success: false, errors: [error.message] }, 400, NO_STORE));
        }
        throw error;
      }

      const verdict = await verifyWebhook(secrets, c.req.raw.headers, body, settings.nowSeconds());
      if (!verdict.ok) {
        return answer("refused", c.json(UNAUTHORIZED, 401, NO_STORE), { refusal: verdict.reason });
      }
      // 1 = the first of PURGE_WEBHOOK_SECRETS.
      const signed = { signingKey: verdict.secretIndex + 1 };

      let request: PurgeRequest;
      try {
        request = parsePurgeBody(body);
      } catch (error) {
        if (error instanceof InvalidPurgeRequestError) {
          return answer("invalid", c.json({ success: false, errors: error.problems }, 400, NO_STORE), {
            ...signed,
            problems: error.problems.length,
          });
        }
        throw error;
      }

      const what = { ...signed, ...targetFields(request) };
      const purger = purgerFor(cacheContextOf(c), settings.edgeCachePurgeUrl);
      if (!purger) {
        return answer(
          "no-edge-cache",
          c.json({ success: false, errors: ["no edge cache to purge"] }, 503, NO_STORE),
          what,
        );
      }
      const outcome = await purger.purge(request);
      if (outcome.ok) {
        return answer("purged", c.json({ success: true, errors: [] }, 200, NO_STORE), {
          ...what,
          cache: purger.kind,
        });
      }
      return answer(
        "failed",
        c.json({ success: false, errors: outcome.errors }, 503, {
          ...NO_STORE,
          "Retry-After": String(outcome.retryAfterSeconds),
        }),
        { ...what, cache: purger.kind, errors: outcome.errors.join("; ") },
      );
    };

    try {
      return await respond();
    } catch (error) {
      // The error handler answers 500 (workers/app.ts); the call still gets its audit line.
      audit("error", 500, { error: error instanceof Error ? error.name : typeof error });
      throw error;
    }
  };
}
