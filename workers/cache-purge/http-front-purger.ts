/**
 * Purges a front cache that speaks the HTTP purge protocol (the local Varnish playing Workers
 * Cache, or any surrogate-key cache): `PURGE` to its URL with `X-Purge-Tags: <tag> <tag> …`,
 * `X-Purge-Prefixes: </prefix> …` or `X-Purge-Everything: 1`, and `X-Purge-Mode: invalidate`
 * to invalidate; it answers 200 `{"purged": n}`.
 */
import { readBoundedBody } from "../../core/bounded-body";
import { describeError, type EdgeCachePurger, PURGE_RETRY_AFTER_SECONDS } from "./edge-purger";
import type { PurgeRequest } from "./purge-request";

/**
 * Varnish refuses a request header past 8 KiB by default (`http_req_hdr_len`), and a list of
 * 100 tags of 1 KiB would be 100 KiB: lists go out in as many requests as keep each header
 * under this.
 */
export const MAX_PURGE_HEADER_BYTES = 4096;
const TIMEOUT_MS = 5_000;
/** Enough of an answer to say what went wrong. */
const MAX_ERROR_BODY_BYTES = 1024;

export interface HttpFrontPurgerOptions {
  readonly url: string;
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** The protocol's requests for one purge, as header sets. */
export function purgeHeaderSets(request: PurgeRequest): Array<Record<string, string>> {
  const mode: Record<string, string> = request.mode === "invalidate" ? { "X-Purge-Mode": "invalidate" } : {};
  const { target } = request;
  if ("purgeEverything" in target) return [{ "X-Purge-Everything": "1", ...mode }];
  const [name, values] =
    "tags" in target ? ["X-Purge-Tags", target.tags] : ["X-Purge-Prefixes", target.pathPrefixes];
  return chunk(values).map((part) => ({ [name]: part.join(" "), ...mode }));
}

/** Consecutive runs of values whose space-joined length stays within MAX_PURGE_HEADER_BYTES. */
function chunk(values: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const value of values) {
    // Values are ASCII (workers/cache-purge/purge-request.ts): characters are bytes.
    const added = current.length === 0 ? value.length : length + 1 + value.length;
    if (current.length > 0 && added > MAX_PURGE_HEADER_BYTES) {
      chunks.push(current);
      current = [value];
      length = value.length;
    } else {
      current.push(value);
      length = added;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function httpFrontPurger(options: HttpFrontPurgerOptions): EdgeCachePurger {
  const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  return {
    kind: "http-front",
    async purge(request) {
      for (const headers of purgeHeaderSets(request)) {
        let response: Response;
        try {
          response = await send(options.url, {
            method: "PURGE",
            headers,
            signal: AbortSignal.timeout(TIMEOUT_MS),
          });
        } catch (error) {
          return {
            ok: false,
            errors: [`front cache unreachable: ${describeError(error)}`],
            retryAfterSeconds: PURGE_RETRY_AFTER_SECONDS,
          };
        }
        const detail = await boundedText(response);
        // Purges are idempotent: after a failed part the caller retries the whole list.
        if (!response.ok) {
          return {
            ok: false,
            errors: [`front cache answered ${response.status}${detail ? `: ${detail}` : ""}`],
            retryAfterSeconds: retryAfterOf(response) ?? PURGE_RETRY_AFTER_SECONDS,
          };
        }
      }
      return { ok: true };
    },
  };
}

/** The answer's text, bounded (empty past the bound); always consumed, so the connection is freed. */
async function boundedText(response: Response): Promise<string> {
  try {
    return new TextDecoder().decode(await readBoundedBody(response, MAX_ERROR_BODY_BYTES)).trim();
  } catch {
    return "";
  }
}

function retryAfterOf(response: Response): number | undefined {
  const value = response.headers.get("retry-after")?.trim();
  return value && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
}
