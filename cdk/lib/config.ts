/**
 * The CDK app's settings, read from CDK context (`cdk.json` or `-c key=value`) into typed
 * props with core/config. A bad or missing value fails with one error naming every problem
 * and how to set it. A value on a reserved example domain (cdk/lib/example-hosts.ts) is
 * refused: it was copied from the docs. Only example mode (`-c example=true`) synthesises
 * without the required keys, from example values, as the example stack (cdk/lib/edge-cache-app.ts).
 *
 * | context key             | meaning                                                                  |
 * |-------------------------|--------------------------------------------------------------------------|
 * | example                 | optional; `true`: fill unset required keys with EXAMPLE_CONTEXT, allow   |
 * |                         | example domains, and synthesise the example stack (CI's offline synth)   |
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
  accept,
  ConfigError,
  combine,
  integer,
  invalid,
  isUnset,
  keyPrefix,
  matching,
  optional,
  policyOverridesText,
  type Rule,
  readSettings,
  refuse,
  required,
  type SettingSource,
  url,
  valid,
  valueOrThrow,
} from "../../core/config";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";
import { hostOfUrl, notExample } from "./example-hosts";

export interface EdgeCacheConfig {
  /** Synthesised in example mode (`-c example=true`): example values, not a deployment. */
  readonly example: boolean;
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

/** What example mode fills the unset required keys with: reserved example domains, never deployable. */
export const EXAMPLE_CONTEXT: Readonly<Record<string, string>> = {
  originDomain: "api.example.com",
  upstashRedisRestUrl: "https://upstash.example.com",
};

/** The subject of the one error (`invalid <subject>: <problems>`): it says where settings go. */
export const CONTEXT_SUBJECT =
  'CDK context (set each key with -c key=value or under "context" in cdk.json; -c example=true synthesises an example stack instead)';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Reads one context value (the CLI passes `-c` values as strings). */
export type ContextReader = SettingSource;

/** `-c` gives text, cdk.json a boolean. */
const flag: Rule<boolean> = {
  expected: "true or false",
  parse: (raw) =>
    raw === true || raw === "true"
      ? accept(true)
      : raw === false || raw === "false"
        ? accept(false)
        : refuse(),
};

/** The settings; outside example mode the host-bearing ones refuse example domains. */
function settingsFor(example: boolean) {
  const real = (rule: Rule<string>, hostOf?: (value: string) => string | undefined) =>
    example ? rule : notExample(rule, hostOf);
  const https = url({ protocols: ["https"] });
  return {
    originDomain: required("originDomain", real(matching(HOSTNAME, "a host name, no scheme or path"))),
    upstashRedisRestUrl: required("upstashRedisRestUrl", real(https, hostOfUrl)),
    keyPrefix: optional("keyPrefix", keyPrefix, { fallback: DEFAULT_KEY_PREFIX }),
    // cdk.json holds it as an object, `-c` as JSON text.
    cachePolicies: optional("cachePolicies", policyOverridesText({ acceptStructured: true })),
    distributionId: optional("distributionId", matching(/^E[A-Z0-9]{8,20}$/, "a CloudFront distribution id")),
    distributionDomainName: optional(
      "distributionDomainName",
      real(matching(HOSTNAME, "a host name such as d111111abcdef8.cloudfront.net")),
    ),
    cloudflareZoneId: optional("cloudflareZoneId", matching(/^[a-f0-9]{32}$/, "a 32-character hex zone id")),
    workersCachePurgeUrl: optional("workersCachePurgeUrl", real(https, hostOfUrl)),
    // SQS allows 1..1000; the retry handler's back-off makes more than ~20 receives pointless.
    retryMaxReceiveCount: optional("retryMaxReceiveCount", integer({ min: 1, max: 1000 }), {
      fallback: DEFAULT_RETRY_MAX_RECEIVE_COUNT,
    }),
    reservedConcurrency: optional("reservedConcurrency", integer({ min: 1, max: 10_000 })),
    alarmEmail: optional(
      "alarmEmail",
      real(matching(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "an email address"), (value) =>
        value.slice(value.lastIndexOf("@") + 1),
      ),
    ),
  };
}

/** Context text is used trimmed; blanks alone stay as given, so they are refused rather than unset. */
function trimmed(read: ContextReader): SettingSource {
  return (key) => {
    const raw = read(key);
    return typeof raw === "string" && raw.trim() !== "" ? raw.trim() : raw;
  };
}

/** Unset required keys read as their example values. */
function withExampleValues(source: SettingSource): SettingSource {
  return (key) => {
    const raw = source(key);
    return isUnset(raw) && key in EXAMPLE_CONTEXT ? EXAMPLE_CONTEXT[key] : raw;
  };
}

export function parseEdgeCacheConfig(read: ContextReader): EdgeCacheConfig {
  const given = trimmed(read);
  const mode = readSettings(given, { example: optional("example", flag, { fallback: false }) });
  // A bad `example` is reported with the rest, which are then read as outside example mode.
  const example = mode.ok && mode.value.example;
  const source = example ? withExampleValues(given) : given;
  // An imported distribution needs its domain name too; said even when other values are wrong.
  const pairing =
    !isUnset(source("distributionId")) && isUnset(source("distributionDomainName"))
      ? invalid(["distributionDomainName: missing (required when distributionId is set)"])
      : valid(undefined);
  const { settings } = valueOrThrow(
    combine({ mode, settings: readSettings(source, settingsFor(example)), pairing }),
    (problems) => new EdgeCacheConfigError(CONTEXT_SUBJECT, problems),
  );
  return {
    example,
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
