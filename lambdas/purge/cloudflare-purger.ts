/**
 * Cloudflare purge by cache tag through the official SDK (`client.cache.purge`,
 * `POST /zones/{zone_id}/purge_cache`). Tags go in chunks of at most 100 (the
 * per-request limit; configurable, older plans used 30), one chunk at a time so a
 * burst does not drain the account's token bucket at once. The SDK retries 429
 * (honouring `Retry-After`), 408, 409 and 5xx `maxRetries` times; a chunk that
 * still fails is reported failed with its tags, never dropped. After a chunk is
 * rate-limited past its retries the remaining chunks are not sent (they would be
 * too) and are reported failed as well, so the caller enqueues all of it.
 * The SDK would sleep for any `Retry-After`, however long; one longer than
 * `maxRetryAfterMs` (default 10 s) ends the retries instead, so a Lambda never
 * idles for a minute: the chunk fails and the retry queue waits for it.
 */
import { BaseCache } from "cloudflare/resources/cache/cache";
import { createClient } from "cloudflare/tree-shakable";
import { type Clock, systemClock } from "../../core/time/clock";
import {
  chunk,
  errorMessage,
  type PurgeCallObserver,
  type PurgeChunkResult,
  type PurgeOutcome,
  type PurgeRetry,
  type Purger,
} from "./purger";

export const CLOUDFLARE_MAX_TAGS_PER_CALL = 100;
export const CLOUDFLARE_DEFAULT_MAX_RETRIES = 3;

/** The one SDK method this purger uses (a real `Cloudflare` client, whole or tree-shaken, satisfies it). */
export interface CloudflarePurgeClient {
  readonly cache: {
    purge(params: { zone_id: string; tags: string[] }): PromiseLike<{ id: string } | null>;
  };
}

export interface CloudflarePurgerOptions {
  readonly zoneId: string;
  /** API token with Cache Purge permission; ignored when `client` is given. */
  readonly apiToken?: string;
  /** e.g. `http://127.0.0.1:PORT/client/v4` for the local fake; default the SDK's (api.cloudflare.com). */
  readonly baseURL?: string;
  /** SDK retries per call on 429 / 408 / 409 / 5xx (default 3). */
  readonly maxRetries?: number;
  /** Per-request timeout in ms (default the SDK's, 60 s). */
  readonly timeoutMs?: number;
  /** Tags per call, at most 100 (default 100). */
  readonly chunkSize?: number;
  /** A 429 asking to wait longer than this is not retried in-process (default 10,000 ms). */
  readonly maxRetryAfterMs?: number;
  /** A pre-built client (tests, custom fetch); otherwise one is built from the options above. */
  readonly client?: CloudflarePurgeClient;
  /** Wall-clock time, to read a `Retry-After` HTTP date as a wait, and to time calls (default the system clock). */
  readonly clock?: Clock;
  /** Told of every purge call (lambdas/purge/purge-audit.ts). */
  readonly onCall?: PurgeCallObserver;
}

/** Seconds or an HTTP date (counted from `clock`'s now), as the SDK reads it; undefined when absent or unreadable. */
function retryAfterMs(value: string | null, clock: Clock): number | undefined {
  if (value === null) return undefined;
  const seconds = Number.parseFloat(value);
  if (!Number.isNaN(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : date - clock.now();
}

/**
 * A fetch that tells the SDK not to retry (`x-should-retry: false`) when the server asks for too long a wait.
 * `clock` is wall-clock time: a `Retry-After` may be an HTTP date.
 */
export function boundedRetryAfter(maxMs: number, clock: Clock, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    // `retry-after-ms` is milliseconds (the SDK reads it so); only `retry-after` is seconds or a date.
    const waitMs = Math.max(
      Number.parseFloat(response.headers.get("retry-after-ms") ?? "") || 0,
      retryAfterMs(response.headers.get("retry-after"), clock) ?? 0,
    );
    if (waitMs <= maxMs) return response;
    const headers = new Headers(response.headers);
    headers.set("x-should-retry", "false");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

interface SdkError {
  readonly status?: number;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as SdkError | null)?.status;
  return typeof status === "number" ? status : undefined;
}

export class CloudflarePurger implements Purger {
  readonly name = "cloudflare";
  readonly zoneId: string;
  readonly chunkSize: number;
  readonly client: CloudflarePurgeClient;
  readonly #clock: Clock;
  readonly #onCall: PurgeCallObserver | undefined;

  constructor(options: CloudflarePurgerOptions) {
    if (!options.zoneId) throw new TypeError("CloudflarePurger needs a zoneId");
    const chunkSize = options.chunkSize ?? CLOUDFLARE_MAX_TAGS_PER_CALL;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > CLOUDFLARE_MAX_TAGS_PER_CALL)
      throw new RangeError(`chunkSize must be 1..${CLOUDFLARE_MAX_TAGS_PER_CALL}, got ${chunkSize}`);
    this.zoneId = options.zoneId;
    this.chunkSize = chunkSize;
    this.#clock = options.clock ?? systemClock;
    this.#onCall = options.onCall;
    if (options.client) {
      this.client = options.client;
    } else {
      if (!options.apiToken) throw new TypeError("CloudflarePurger needs an apiToken (or a client)");
      // The SDK's tree-shakable client with the cache resource alone (zone purge, no
      // subresources): the whole client would bundle every resource, 630 KiB of the event Lambda.
      this.client = createClient({
        resources: [BaseCache],
        apiToken: options.apiToken,
        // Only the token authenticates: never pick up CLOUDFLARE_API_KEY / _EMAIL from the environment.
        apiKey: null,
        apiEmail: null,
        userServiceKey: null,
        maxRetries: options.maxRetries ?? CLOUDFLARE_DEFAULT_MAX_RETRIES,
        ...(options.baseURL ? { baseURL: options.baseURL } : {}),
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
        fetch: boundedRetryAfter(options.maxRetryAfterMs ?? 10_000, options.clock ?? systemClock),
      });
    }
  }

  /** One result per chunk, in order; never throws. */
  async purgeTags(tags: readonly string[], zoneId = this.zoneId, batchKey = ""): Promise<PurgeChunkResult[]> {
    const unique = [...new Set(tags.filter((tag) => tag.length > 0))];
    const results: PurgeChunkResult[] = [];
    let rateLimited: string | undefined;
    for (const items of chunk(unique, this.chunkSize)) {
      if (rateLimited) {
        results.push({ ok: false, items, attempts: 0, error: `not sent: ${rateLimited}` });
        continue;
      }
      const started = this.#clock.now();
      const observe = (ok: boolean, detail: { id?: string; error?: string }) =>
        this.#onCall?.({
          provider: "cloudflare",
          batchKey,
          targets: items.length,
          ok,
          latencyMs: this.#clock.now() - started,
          ...detail,
        });
      try {
        const result = await this.client.cache.purge({ zone_id: zoneId, tags: items });
        observe(true, result?.id ? { id: result.id } : {});
        results.push({ ok: true, items, attempts: 1, ...(result?.id ? { id: result.id } : {}) });
      } catch (error) {
        const message = errorMessage(error);
        observe(false, { error: message });
        if (statusOf(error) === 429) rateLimited = `rate limited after retries (${message})`;
        results.push({ ok: false, items, attempts: 1, error: message });
      }
    }
    return results;
  }

  async purge(tags: readonly string[], batchKey: string): Promise<PurgeOutcome> {
    return this.#outcome(await this.purgeTags(tags, this.zoneId, batchKey), this.zoneId, batchKey);
  }

  async retry(description: PurgeRetry): Promise<PurgeOutcome> {
    if (description.provider !== "cloudflare")
      throw new TypeError(`a Cloudflare purger cannot retry a ${description.provider} purge`);
    return this.#outcome(
      await this.purgeTags(description.tags, description.zoneId, description.batchKey),
      description.zoneId,
      description.batchKey,
    );
  }

  async flush(): Promise<void> {}

  #outcome(chunks: PurgeChunkResult[], zoneId: string, batchKey: string): PurgeOutcome {
    const calls = chunks.reduce((sum, result) => sum + result.attempts, 0);
    const failed = chunks.filter((result) => !result.ok);
    if (failed.length === 0) return { ok: true, provider: this.name, calls, chunks };
    return {
      ok: false,
      provider: this.name,
      calls,
      chunks,
      error: `${failed.length} of ${chunks.length} Cloudflare purge calls failed: ${failed[0]?.error ?? "unknown error"}`,
      retry: { provider: "cloudflare", zoneId, tags: failed.flatMap((result) => result.items), batchKey },
    };
  }
}
