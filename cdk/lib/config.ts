/**
 * The CDK app's settings, read from CDK context (`cdk.json` or `-c key=value`) into typed
 * props. A bad or missing value fails with one error naming every problem.
 *
 * | context key             | meaning                                                                  |
 * |-------------------------|--------------------------------------------------------------------------|
 * | originDomain            | required; the marketplace API host CloudFront fronts (no scheme, no path) |
 * | upstashRedisRestUrl     | required; the Upstash REST URL (https://…), not a secret                 |
 * | keyPrefix               | optional; Redis key prefix (default `ec`)                                |
 * | distributionId          | optional; use this existing distribution instead of creating one         |
 * | distributionDomainName  | required with distributionId; its `dxxxx.cloudfront.net` name            |
 * | cloudflareZoneId        | optional; the Cloudflare zone to purge (unset: Cloudflare purges only log) |
 * | retryMaxReceiveCount    | optional; receives before a retry message moves to the DLQ (default 5)   |
 * | reservedConcurrency     | optional; reserved concurrency of the webhook Lambda                     |
 * | alarmEmail              | optional; an address subscribed to the alarm topic                       |
 */
import { DEFAULT_KEY_PREFIX } from "../../core/keys";

export interface EdgeCacheConfig {
  readonly originDomain: string;
  readonly upstashRedisRestUrl: string;
  readonly keyPrefix: string;
  readonly distributionId?: string;
  readonly distributionDomainName?: string;
  readonly cloudflareZoneId?: string;
  readonly retryMaxReceiveCount: number;
  readonly reservedConcurrency?: number;
  readonly alarmEmail?: string;
}

export class EdgeCacheConfigError extends Error {
  override readonly name = "EdgeCacheConfigError";
}

export const DEFAULT_RETRY_MAX_RECEIVE_COUNT = 5;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const DISTRIBUTION_ID = /^E[A-Z0-9]{8,20}$/;
const ZONE_ID = /^[a-f0-9]{32}$/;
const KEY_PREFIX = /^[a-z0-9][a-z0-9_-]*$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads one context value (the CLI passes `-c` values as strings). */
export type ContextReader = (key: string) => unknown;

export function parseEdgeCacheConfig(read: ContextReader): EdgeCacheConfig {
  const problems: string[] = [];

  const text = (key: string, required: boolean, pattern: RegExp, hint: string): string | undefined => {
    const raw = read(key);
    if (raw === undefined || raw === null || raw === "") {
      if (required) problems.push(`${key}: missing (${hint})`);
      return undefined;
    }
    if (typeof raw !== "string" || !pattern.test(raw.trim())) {
      problems.push(`${key}: ${JSON.stringify(raw)} is not ${hint}`);
      return undefined;
    }
    return raw.trim();
  };

  const integer = (key: string, min: number, max: number): number | undefined => {
    const raw = read(key);
    if (raw === undefined || raw === null || raw === "") return undefined;
    const value = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key}: ${JSON.stringify(raw)} is not an integer from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };

  const originDomain = text("originDomain", true, HOSTNAME, "a host name such as api.example.com");
  const upstashRaw = text("upstashRedisRestUrl", true, /^https:\/\/\S+$/, "an https:// URL");
  let upstashRedisRestUrl = upstashRaw;
  if (upstashRaw !== undefined && !URL.canParse(upstashRaw)) {
    problems.push(`upstashRedisRestUrl: ${JSON.stringify(upstashRaw)} is not a URL`);
    upstashRedisRestUrl = undefined;
  }
  const keyPrefix = text("keyPrefix", false, KEY_PREFIX, "letters, digits, '_' or '-'") ?? DEFAULT_KEY_PREFIX;
  const distributionId = text("distributionId", false, DISTRIBUTION_ID, "a CloudFront distribution id");
  const distributionDomainName = text(
    "distributionDomainName",
    false,
    HOSTNAME,
    "a host name such as d111111abcdef8.cloudfront.net",
  );
  if (read("distributionId") && !read("distributionDomainName"))
    problems.push("distributionDomainName: missing (required when distributionId is set)");
  const cloudflareZoneId = text("cloudflareZoneId", false, ZONE_ID, "a 32-character hex zone id");
  // SQS allows 1..1000; the retry handler's back-off makes more than ~20 receives pointless.
  const retryMaxReceiveCount = integer("retryMaxReceiveCount", 1, 1000) ?? DEFAULT_RETRY_MAX_RECEIVE_COUNT;
  const reservedConcurrency = integer("reservedConcurrency", 1, 10_000);
  const alarmEmail = text("alarmEmail", false, EMAIL, "an email address");

  if (problems.length > 0 || originDomain === undefined || upstashRedisRestUrl === undefined)
    throw new EdgeCacheConfigError(`invalid CDK context: ${problems.join("; ")}`);

  return {
    originDomain,
    upstashRedisRestUrl,
    keyPrefix,
    retryMaxReceiveCount,
    ...(distributionId !== undefined ? { distributionId } : {}),
    ...(distributionDomainName !== undefined ? { distributionDomainName } : {}),
    ...(cloudflareZoneId !== undefined ? { cloudflareZoneId } : {}),
    ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
    ...(alarmEmail !== undefined ? { alarmEmail } : {}),
  };
}
