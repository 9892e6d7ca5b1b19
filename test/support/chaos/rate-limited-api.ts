/**
 * A purge API that rate-limits for minutes: an HTTP front for one of the CDN fakes of dev/fakes/
 * (the real part behind it) that, for a window set on the injected clock, answers every purge
 * request as the provider does when its limit is spent, and passes everything else (and every
 * request outside the window) to the fake unchanged. The purgers' real SDKs point at it.
 *   Cloudflare  429 with the v4 envelope and a `Retry-After` longer than the purger waits;
 *   CloudFront  400 TooManyInvalidationsInProgress (its answer while 15 wildcard invalidations run).
 */

import type { Clock } from "../../../core/time/clock";
import { CLOUDFLARE_FAKE_CODES, CLOUDFRONT_XMLNS, type ServedApp, serveApp } from "../../../dev/fakes";

export type PurgeProvider = "cloudflare" | "cloudfront";

export interface RateLimitedApi {
  /** Point the SDK here instead of at the fake. */
  readonly url: string;
  /** Purge requests answered with the limit, and passed to the fake. */
  readonly counts: { limited: number; passed: number };
  /** Every purge request from now until `clock.now() + ms` is refused. */
  limitFor(ms: number): void;
  /** When the current window ends (0: none set). */
  readonly limitedUntil: number;
  close(): Promise<void>;
}

/** Whether a request is one the provider counts against its purge limit. */
function isPurge(provider: PurgeProvider, request: Request): boolean {
  const { pathname } = new URL(request.url);
  if (request.method !== "POST") return false;
  return provider === "cloudflare" ? pathname.endsWith("/purge_cache") : pathname.endsWith("/invalidation");
}

function limitAnswer(provider: PurgeProvider): Response {
  if (provider === "cloudflare") {
    return Response.json(
      {
        success: false,
        errors: [
          {
            code: CLOUDFLARE_FAKE_CODES.rateLimited,
            message: "Please wait and consider throttling your request speed",
          },
        ],
        messages: [],
        result: null,
      },
      { status: 429, headers: { "retry-after": "60" } },
    );
  }
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${CLOUDFRONT_XMLNS}"><Error>` +
      "<Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code>" +
      "<Message>Your request contains too many invalidations in progress.</Message></Error>" +
      "<RequestId>chaos-rate-limit</RequestId></ErrorResponse>",
    { status: 400, headers: { "content-type": "text/xml" } },
  );
}

export async function startRateLimitedApi(options: {
  readonly provider: PurgeProvider;
  /** The fake's base URL. */
  readonly target: string;
  readonly clock: Clock;
}): Promise<RateLimitedApi> {
  const counts = { limited: 0, passed: 0 };
  let limitedUntil = 0;
  const served: ServedApp = await serveApp({
    async fetch(request) {
      const purge = isPurge(options.provider, request);
      if (purge && options.clock.now() < limitedUntil) {
        counts.limited += 1;
        await request.arrayBuffer();
        return limitAnswer(options.provider);
      }
      if (purge) counts.passed += 1;
      const { pathname, search } = new URL(request.url);
      const body =
        request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
      const headers = new Headers(request.headers);
      headers.delete("host");
      headers.delete("content-length");
      const answer = await fetch(`${options.target}${pathname}${search}`, {
        method: request.method,
        headers,
        ...(body ? { body } : {}),
      });
      // Passed on as the fake sent it, minus what the fetch already decoded.
      const passed = new Headers(answer.headers);
      passed.delete("content-encoding");
      passed.delete("content-length");
      passed.delete("transfer-encoding");
      return new Response(await answer.arrayBuffer(), { status: answer.status, headers: passed });
    },
  });
  return {
    url: served.url,
    counts,
    limitFor(ms) {
      limitedUntil = options.clock.now() + ms;
    },
    get limitedUntil() {
      return limitedUntil;
    },
    close: () => served.close(),
  };
}
