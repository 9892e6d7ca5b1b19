/**
 * Asks the origin on a miss, bounded by its timeout, and turns the response into a
 * loaded value: private answers pass through untouched and stored nowhere; public 200s
 * get a strong ETag and the origin's version; other answers (a 404) are passed on, not
 * storable; 5xx and network failures are errors.
 */
import type { Clock, Timers } from "../time/clock";
import type { TieredCacheStats } from "./cache-stats";
import { JSON_CONTENT_TYPE, type LoadedValue, strongEtag, type TierTiming } from "./loaded-value";

/** Nothing usable anywhere: the origin failed and no copy is within its stale-if-error limit. */
export class OriginUnavailableError extends Error {
  override readonly name = "OriginUnavailableError";
}

export interface OriginReaderOptions {
  /** Fetches `path` from the origin; the signal aborts at the timeout. */
  readonly fetchOrigin: (path: string, signal: AbortSignal) => Promise<Response>;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly counters: Pick<TieredCacheStats, "hits" | "bypass" | "originErrors">;
}

/** Headers a private answer keeps on its way to the client. */
const PASS_HEADERS = ["cache-control", "set-cookie", "vary"] as const;

/**
 * `private`, `no-store` or a `Set-Cookie` from the origin: never into a shared tier. A 404
 * marked only `no-store` is not private: it answers a request without credentials (those
 * never reach the engine) that names no such id, and the engine keeps it briefly in this
 * isolate's memory only (a negative entry: never L2, never a shared HTTP cache).
 */
function isPrivateResponse(response: Response): boolean {
  if (response.headers.has("set-cookie")) return true;
  const cacheControl = response.headers.get("cache-control")?.toLowerCase() ?? "";
  if (/(^|[\s,])private([\s,=]|$)/.test(cacheControl)) return true;
  return response.status !== 404 && /(^|[\s,])no-store([\s,=]|$)/.test(cacheControl);
}

export class OriginReader {
  constructor(private readonly options: OriginReaderOptions) {}

  /** Reads `path`; its time is added to `timings` whether it answers or not. */
  async read(path: string, timings: TierTiming[]): Promise<LoadedValue> {
    const { clock, timers, timeoutMs, counters } = this.options;
    const started = clock.now();
    const controller = new AbortController();
    const timer = timers.setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    let body: string;
    try {
      response = await this.options.fetchOrigin(path, controller.signal);
      body = await response.text();
    } catch (error) {
      counters.originErrors += 1;
      throw new OriginUnavailableError(
        controller.signal.aborted
          ? `origin did not answer within ${timeoutMs} ms`
          : `origin request failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      timers.clearTimeout(timer);
      timings.push({ tier: "origin", ms: clock.now() - started });
    }
    if (response.status >= 500) {
      counters.originErrors += 1;
      throw new OriginUnavailableError(`origin answered ${response.status}`);
    }
    const contentType = response.headers.get("content-type") ?? JSON_CONTENT_TYPE;
    if (isPrivateResponse(response)) {
      counters.bypass += 1;
      const passHeaders: Record<string, string> = {};
      for (const name of PASS_HEADERS) {
        const value = response.headers.get(name);
        if (value) passHeaders[name] = value;
      }
      return {
        status: response.status,
        body,
        contentType,
        source: "BYPASS",
        storable: false,
        etag: undefined,
        version: 0,
        timings,
        passHeaders,
        originPath: path,
      };
    }
    counters.hits.origin += 1;
    const storable = response.status === 200;
    const version = Number(response.headers.get("x-origin-version") ?? 0);
    return {
      status: response.status,
      body,
      contentType,
      source: "ORIGIN",
      storable,
      etag: storable ? await strongEtag(body) : undefined,
      version: Number.isFinite(version) && version > 0 ? version : 0,
      timings,
      originPath: path,
    };
  }
}
