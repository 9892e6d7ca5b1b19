/**
 * The CDK app's settings, read from CDK context (`cdk.json` or `-c key=value`) into typed
 * props with core/config. A bad or missing value fails with one error naming every problem.
 *
 * | context key             | meaning                                                                  |
 * |-------------------------|--------------------------------------------------------------------------|
 * | originDomain            | required; the marketplace API host CloudFront fronts (no scheme, no path) |
 * | upstashRedisRestUrl     | required; the Upstash REST URL (https://…), not a secret                 |
 * | keyPrefix               | optional; Redis key prefix (default `ec`)                                |
 * | cachePolicies           | optional; the Worker's CACHE_POLICIES (JSON), passed to the webhook Lambda |
 * |                         | as CACHE_POLICIES so its write-through TTLs match the Worker's fills     |
 * | distributionId          | optional; use this existing distribution instead of creating one         |
 * | distributionDomainName  | required with distributionId; its `dxxxx.cloudfront.net` name            |
 * | cloudflareZoneId        | optional; the Cloudflare zone to purge by tag, only for a deployment that |
 * |                         | puts content of its own in the zone cache (unset: no zone purge)         |
 * | workersCachePurgeUrl    | optional; the Worker's purge endpoint, `https://<worker>/_cache/purge`: |
 * |                         | both Lambdas purge Workers Cache through it (unset: those purges only log) |
 * | retryMaxReceiveCount    | optional; receives before a message goes to the DLQ, 1 to 1000 (default 5) |
 * | reservedConcurrency     | optional; reserved concurrency of the webhook Lambda, 1 to 10000         |
 * | alarmEmail              | optional; an address subscribed to the alarm topic                       |
 */
import {
  ConfigError,
  combine,
  integer,
  invalid,
  isUnset,
  keyPrefix,
  matching,
  optional,
  policyOverridesText,
  readSettings,
  required,
  type SettingSource,
  url,
  valid,
  valueOrThrow,
} from "../../core/config";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";

export interface EdgeCacheConfig {
  readonly originDomain: string;
  readonly upstashRedisRestUrl: string;
  readonly keyPrefix: string;
  /** JSON text of the data-class overrides, checked; unset: the defaults. */
  readonly cachePolicies?: string;
  readonly distributionId?: string;
  readonly distributionDomainName?: string;
  readonly cloudflareZoneId?: string;
  readonly workersCachePurgeUrl?: string;
  readonly retryMaxReceiveCount: number;
  readonly reservedConcurrency?: number;
  readonly alarmEmail?: string;
}

export class EdgeCacheConfigError extends ConfigError {
  override readonly name = "EdgeCacheConfigError";
}

export const DEFAULT_RETRY_MAX_RECEIVE_COUNT = 5;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Reads one context value (the CLI passes `-c` values as strings). */
export type ContextReader = SettingSource;

const SETTINGS = {
  originDomain: required("originDomain", matching(HOSTNAME, "a host name such as api.example.com")),
  upstashRedisRestUrl: required("upstashRedisRestUrl", url({ protocols: ["https"] })),
  keyPrefix: optional("keyPrefix", keyPrefix, { fallback: DEFAULT_KEY_PREFIX }),
  // cdk.json holds it as an object, `-c` as JSON text.
  cachePolicies: optional("cachePolicies", policyOverridesText({ acceptStructured: true })),
  distributionId: optional("distributionId", matching(/^E[A-Z0-9]{8,20}$/, "a CloudFront distribution id")),
  distributionDomainName: optional(
    "distributionDomainName",
    matching(HOSTNAME, "a host name such as d111111abcdef8.cloudfront.net"),
  ),
  cloudflareZoneId: optional("cloudflareZoneId", matching(/^[a-f0-9]{32}$/, "a 32-character hex zone id")),
  workersCachePurgeUrl: optional("workersCachePurgeUrl", url({ protocols: ["https"] })),
  // SQS allows 1..1000; the retry handler's back-off makes more than ~20 receives pointless.
  retryMaxReceiveCount: optional("retryMaxReceiveCount", integer({ min: 1, max: 1000 }), {
    fallback: DEFAULT_RETRY_MAX_RECEIVE_COUNT,
  }),
  reservedConcurrency: optional("reservedConcurrency", integer({ min: 1, max: 10_000 })),
  alarmEmail: optional("alarmEmail", matching(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "an email address")),
};

/** Context text is used trimmed; blanks alone stay as given, so they are refused rather than unset. */
function trimmed(read: ContextReader): SettingSource {
  return (key) => {
    const raw = read(key);
    return typeof raw === "string" && raw.trim() !== "" ? raw.trim() : raw;
  };
}

export function parseEdgeCacheConfig(read: ContextReader): EdgeCacheConfig {
  const source = trimmed(read);
  // An imported distribution needs its domain name too; said even when other values are wrong.
  const pairing =
    !isUnset(source("distributionId")) && isUnset(source("distributionDomainName"))
      ? invalid(["distributionDomainName: missing (required when distributionId is set)"])
      : valid(undefined);
  const { settings } = valueOrThrow(
    combine({ settings: readSettings(source, SETTINGS), pairing }),
    (problems) => new EdgeCacheConfigError("CDK context", problems),
  );
  return {
    originDomain: settings.originDomain,
    upstashRedisRestUrl: settings.upstashRedisRestUrl,
    keyPrefix: settings.keyPrefix,
    retryMaxReceiveCount: settings.retryMaxReceiveCount,
    ...(settings.cachePolicies !== undefined ? { cachePolicies: settings.cachePolicies } : {}),
    ...(settings.distributionId !== undefined ? { distributionId: settings.distributionId } : {}),
    ...(settings.distributionDomainName !== undefined
      ? { distributionDomainName: settings.distributionDomainName }
      : {}),
    ...(settings.cloudflareZoneId !== undefined ? { cloudflareZoneId: settings.cloudflareZoneId } : {}),
    ...(settings.workersCachePurgeUrl !== undefined
      ? { workersCachePurgeUrl: settings.workersCachePurgeUrl }
      : {}),
    ...(settings.reservedConcurrency !== undefined
      ? { reservedConcurrency: settings.reservedConcurrency }
      : {}),
    ...(settings.alarmEmail !== undefined ? { alarmEmail: settings.alarmEmail } : {}),
  };
}
