/**
 * Response helpers that make the sample origin behave like a real API behind a CDN:
 * per-class Cache-Control, strong ETags over the exact body bytes, conditional 304s.
 * Web APIs only (crypto.subtle, Response), like the rest of the HTTP layer.
 */

/** The data classes of docs/architecture.md "Data classes", as the marketplace API would label them. */
export type OriginDataClass =
  | "availability"
  | "pricing"
  | "gpu"
  | "provider"
  | "market-stats"
  | "order-book"
  | "reference";

export const CACHE_CONTROL: Readonly<Record<OriginDataClass, string>> = {
  availability: "public, max-age=0, s-maxage=5, stale-while-revalidate=5, stale-if-error=60",
  pricing: "public, max-age=10, s-maxage=30, stale-if-error=300",
  gpu: "public, max-age=30, s-maxage=60, stale-if-error=600",
  provider: "public, max-age=10, s-maxage=30, stale-if-error=300",
  "market-stats": "public, max-age=5, s-maxage=10, stale-if-error=300",
  "order-book": "public, max-age=0, s-maxage=2, stale-if-error=30",
  reference: "public, max-age=300, s-maxage=3600, stale-if-error=86400",
};

export const PRIVATE_CACHE_CONTROL = "private, no-store";
/** For errors and admin answers: a cached 404 for a GPU created a second later would stick. */
export const NO_STORE = "no-store";
export const JSON_CONTENT_TYPE = "application/json";

const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Strong validator: identical bytes, identical tag, on every origin instance with the same data. */
export async function strongEtag(body: string): Promise<string> {
  return `"${(await sha256Hex(body)).slice(0, 32)}"`;
}

/** RFC 9110 If-None-Match uses weak comparison, so a W/ prefix from a downstream cache still matches. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = strip(etag);
  return ifNoneMatch.split(",").some((candidate) => candidate.trim() === "*" || strip(candidate) === wanted);
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ...headers },
  });
}

export function errorResponse(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Response {
  return jsonResponse(status, { error: message, ...extra }, { "Cache-Control": NO_STORE });
}

export interface CacheableBody {
  body: unknown;
  dataClass: OriginDataClass;
  /** Sent as X-Origin-Version so a cache filling from the origin can refuse to overwrite newer data. */
  version?: number;
}

export async function cacheableResponse(
  { body, dataClass, version }: CacheableBody,
  ifNoneMatch: string | undefined,
): Promise<Response> {
  const text = JSON.stringify(body);
  const etag = await strongEtag(text);
  const headers: Record<string, string> = { "Cache-Control": CACHE_CONTROL[dataClass], ETag: etag };
  if (version !== undefined) headers["X-Origin-Version"] = String(version);
  // A 304 repeats the validators and caching headers so caches can refresh their copy's freshness.
  if (etagMatches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  return new Response(text, { status: 200, headers: { "Content-Type": JSON_CONTENT_TYPE, ...headers } });
}

export function maxVersion(items: readonly { version: number }[]): number {
  return items.reduce((max, item) => Math.max(max, item.version), 0);
}
