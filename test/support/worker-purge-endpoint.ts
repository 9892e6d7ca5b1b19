/**
 * A stand-in for the Worker's signed purge endpoint (`POST /_cache/purge`, the contract in
 * lambdas/purge/README.md), on a real local HTTP server: it checks the Standard Webhooks
 * signature (core/webhook-signature.ts, against `now`, so tests that move a clock still
 * sign in time), the body (exactly one target, at most 100 entries), and answers 200, 401,
 * 400, or, when told to, 503 with `Retry-After` as the Worker does when Workers Cache refuses.
 * It records every request, and what accepted calls purged, so a test can ask whether a
 * tag was purged, whichever way (tag, prefix or everything).
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { purgePrefixForTag } from "../../core/purge-paths";
import { verifyWebhook } from "../../core/webhook-signature";

export interface PurgeEndpointRequest {
  readonly status: number;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
}

/** The body of one accepted call. */
export type AcceptedPurge =
  | { readonly tags: string[] }
  | { readonly pathPrefixes: string[] }
  | { readonly purgeEverything: true };

export interface PurgeEndpoint {
  /** `http://127.0.0.1:PORT/_cache/purge` */
  readonly url: string;
  /** Every request, in order. */
  readonly requests: PurgeEndpointRequest[];
  /** The bodies of the calls answered 200. */
  readonly accepted: AcceptedPurge[];
  /** Answers the next `count` well-signed calls with `status` (503: with Retry-After, as rate limited). */
  refuseNext(count: number, status?: number): void;
  /** Whether an accepted call purged what `tag` labels: by tag, by a prefix of its route, or everything. */
  purged(tag: string): boolean;
  close(): Promise<void>;
}

export interface PurgeEndpointOptions {
  readonly secret: string;
  /** Milliseconds; the signature's timestamp is checked against it. */
  readonly now?: () => number;
}

/** Segments, as Cloudflare's purge by prefix matches. */
function prefixMatches(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Whether calls with these bodies purge what `tag` labels. */
export function purgedBy(bodies: readonly AcceptedPurge[], tag: string): boolean {
  const path = purgePrefixForTag(tag);
  return bodies.some((body) => {
    if ("purgeEverything" in body) return true;
    if ("tags" in body) return body.tags.includes(tag);
    return path !== undefined && body.pathPrefixes.some((prefix) => prefixMatches(prefix, path));
  });
}

function checkBody(body: unknown): string[] {
  if (typeof body !== "object" || body === null) return ["body must be an object"];
  const record = body as Record<string, unknown>;
  const targets = ["tags", "pathPrefixes", "purgeEverything"].filter((name) => record[name] !== undefined);
  if (targets.length !== 1) return [`exactly one target, got ${targets.join(", ") || "none"}`];
  const list = record.tags ?? record.pathPrefixes;
  if (record.purgeEverything !== undefined)
    return record.purgeEverything === true ? [] : ["purgeEverything: true"];
  if (!Array.isArray(list) || list.length === 0 || list.length > 100) return ["1 to 100 entries"];
  if (record.pathPrefixes && !list.every((prefix) => typeof prefix === "string" && prefix.startsWith("/")))
    return ["prefixes start with /"];
  return [];
}

export async function startPurgeEndpoint(options: PurgeEndpointOptions): Promise<PurgeEndpoint> {
  const now = options.now ?? (() => Date.now());
  const requests: PurgeEndpointRequest[] = [];
  const accepted: AcceptedPurge[] = [];
  const refusals: number[] = [];

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        requests.push({ status, body: parsed, headers: request.headers });
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(body));
      };
      if (request.method !== "POST" || request.url !== "/_cache/purge")
        return answer(404, { success: false, errors: [{ message: "not found" }] });
      const verified = await verifyWebhook(
        [options.secret],
        request.headers as Record<string, string>,
        text,
        Math.floor(now() / 1000),
      );
      if (!verified.ok) return answer(401, { success: false, errors: [{ message: "invalid signature" }] });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return answer(400, { success: false, errors: [{ message: "not JSON" }] });
      }
      const problems = checkBody(body);
      if (problems.length > 0)
        return answer(400, { success: false, errors: problems.map((message) => ({ message })) });
      const refusal = refusals.shift();
      if (refusal !== undefined)
        return answer(
          refusal,
          { success: false, errors: [{ code: 1015, message: "rate limited" }] },
          refusal === 503 ? { "retry-after": "12" } : {},
        );
      accepted.push(body as AcceptedPurge);
      return answer(200, { success: true, errors: [] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/_cache/purge`,
    requests,
    accepted,
    refuseNext(count, status = 503) {
      for (let index = 0; index < count; index++) refusals.push(status);
    },
    purged: (tag) => purgedBy(accepted, tag),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
