/**
 * A local Cloudflare purge API: `POST /client/v4/zones/:zone/purge_cache` with the
 * v4 envelope (docs/wire-formats.md "Cloudflare purge cache"), so the official
 * `cloudflare` SDK can be pointed at it (`baseURL: `${fake.url}/client/v4``).
 * Bearer auth (401 envelope otherwise), exactly one kind per body (tags, files,
 * hosts, prefixes or purge_everything), at most `maxItems` (100) items (400),
 * injectable 429 with a small `Retry-After`. Records every accepted purge;
 * `GET /_fake/purges` shows them.
 */
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { serveApp } from "../support/serve-app";

export const PURGE_KINDS = ["tags", "files", "hosts", "prefixes", "purge_everything"] as const;
export type PurgeKind = (typeof PURGE_KINDS)[number];

export type CloudflareFailureKind = "rate-limit" | "server-error";

/** Error codes of the fake's envelopes (Cloudflare documents no purge-specific ones for all of these). */
export const CLOUDFLARE_FAKE_CODES = {
  authentication: 10000,
  badBody: 1012,
  tooManyItems: 1015,
  rateLimited: 971,
  internal: 10001,
} as const;

export interface CloudflareFakeOptions {
  /** 0 or unset: a free port. */
  readonly port?: number;
  readonly hostname?: string;
  /** The token the fake accepts; unset: any non-empty bearer token. */
  readonly apiToken?: string;
  /** Items per request (default 100). */
  readonly maxItems?: number;
  /** `Retry-After` of injected 429s, in seconds (default "1"). */
  readonly retryAfter?: string;
  /** When set, only these zone ids exist (others answer 404). */
  readonly zones?: readonly string[];
}

export interface RecordedPurge {
  /** ISO-8601. */
  readonly time: string;
  readonly zoneId: string;
  readonly id: string;
  readonly kind: PurgeKind;
  /** Tags, URLs, hosts or prefixes; empty for purge_everything. */
  readonly items: readonly string[];
}

export interface RecordedCloudflareRequest {
  readonly zoneId: string;
  readonly status: number;
  /** What the SDK says this attempt is (`X-Stainless-Retry-Count`), when it says. */
  readonly retryCount?: number;
}

export interface CloudflareFake {
  readonly url: string;
  /** Every accepted purge, in order. */
  readonly purges: RecordedPurge[];
  /** Every purge_cache request, accepted or not. */
  readonly requests: RecordedCloudflareRequest[];
  /** The next `count` purge requests fail with `kind` (default 429, with `retryAfter` or the fake's default). */
  failNext(count: number, kind?: CloudflareFailureKind, retryAfter?: string): void;
  close(): Promise<void>;
}

const envelopeError = (code: number, message: string) => ({
  success: false,
  errors: [{ code, message }],
  messages: [],
  result: null,
});

type Body = Record<string, unknown>;

/** The purge's kind and items, or an error message for a body Cloudflare would refuse. */
function readBody(
  body: unknown,
  maxItems: number,
): { kind: PurgeKind; items: string[] } | { error: string; code: number } {
  if (!body || typeof body !== "object" || Array.isArray(body))
    return { error: "Request body must be a JSON object", code: CLOUDFLARE_FAKE_CODES.badBody };
  const present = PURGE_KINDS.filter((kind) => (body as Body)[kind] !== undefined);
  const unknown = Object.keys(body).filter((key) => !(PURGE_KINDS as readonly string[]).includes(key));
  if (present.length !== 1 || unknown.length > 0)
    return {
      error: `Request must contain exactly one of ${PURGE_KINDS.join(", ")}${unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""}`,
      code: CLOUDFLARE_FAKE_CODES.badBody,
    };
  const kind = present[0] as PurgeKind;
  const value = (body as Body)[kind];
  if (kind === "purge_everything") {
    if (value !== true)
      return { error: "purge_everything must be true", code: CLOUDFLARE_FAKE_CODES.badBody };
    return { kind, items: [] };
  }
  if (!Array.isArray(value) || value.length === 0)
    return { error: `${kind} must be a non-empty array`, code: CLOUDFLARE_FAKE_CODES.badBody };
  if (value.length > maxItems)
    return {
      error: `${kind}: at most ${maxItems} items per request, got ${value.length}`,
      code: CLOUDFLARE_FAKE_CODES.tooManyItems,
    };
  const items: string[] = [];
  for (const item of value) {
    const text =
      kind === "files" && item && typeof item === "object"
        ? (item as { url?: unknown }).url
        : (item as unknown);
    if (typeof text !== "string" || text.length === 0)
      return { error: `${kind} items must be non-empty strings`, code: CLOUDFLARE_FAKE_CODES.badBody };
    if (kind === "tags" && text.length > 1024)
      return { error: "a tag may be at most 1024 characters", code: CLOUDFLARE_FAKE_CODES.badBody };
    items.push(text);
  }
  return { kind, items };
}

export async function startCloudflareFake(options: CloudflareFakeOptions = {}): Promise<CloudflareFake> {
  const maxItems = options.maxItems ?? 100;
  const defaultRetryAfter = options.retryAfter ?? "1";
  const zones = options.zones ? new Set(options.zones) : undefined;
  const purges: RecordedPurge[] = [];
  const requests: RecordedCloudflareRequest[] = [];
  const injected: Array<{ kind: CloudflareFailureKind; retryAfter: string }> = [];

  const app = new Hono();
  app.get("/_fake/purges", (c) => c.json(purges));

  app.post("/client/v4/zones/:zone/purge_cache", async (c) => {
    const zoneId = c.req.param("zone");
    const retryHeader = c.req.header("x-stainless-retry-count");
    const answer = (
      status: 200 | 400 | 401 | 404 | 429 | 500,
      body: unknown,
      headers: Record<string, string> = {},
    ) => {
      requests.push({
        zoneId,
        status,
        ...(retryHeader !== undefined ? { retryCount: Number(retryHeader) } : {}),
      });
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      return c.json(body, status);
    };

    const authorization = c.req.header("authorization") ?? "";
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    if (!token || (options.apiToken !== undefined && token !== options.apiToken))
      return answer(401, envelopeError(CLOUDFLARE_FAKE_CODES.authentication, "Authentication error"));
    if (zones && !zones.has(zoneId))
      return answer(404, envelopeError(7003, `Could not route to /zones/${zoneId}/purge_cache`));

    const failure = injected.shift();
    if (failure?.kind === "rate-limit")
      return answer(
        429,
        envelopeError(
          CLOUDFLARE_FAKE_CODES.rateLimited,
          "Please wait and consider throttling your request speed",
        ),
        { "Retry-After": failure.retryAfter },
      );
    if (failure?.kind === "server-error")
      return answer(500, envelopeError(CLOUDFLARE_FAKE_CODES.internal, "Internal error"));

    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      return answer(400, envelopeError(CLOUDFLARE_FAKE_CODES.badBody, "Request body is not valid JSON"));
    }
    const parsed = readBody(body, maxItems);
    if ("error" in parsed) return answer(400, envelopeError(parsed.code, parsed.error));

    const id = randomBytes(16).toString("hex");
    purges.push({ time: new Date().toISOString(), zoneId, id, kind: parsed.kind, items: parsed.items });
    return answer(200, { success: true, errors: [], messages: [], result: { id } });
  });

  const served = await serveApp(app, options);
  return {
    url: served.url,
    purges,
    requests,
    failNext(count, kind = "rate-limit", retryAfter = defaultRetryAfter) {
      for (let i = 0; i < count; i++) injected.push({ kind, retryAfter });
    },
    close: () => served.close(),
  };
}
