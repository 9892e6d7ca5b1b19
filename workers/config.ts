/**
 * The Worker's settings, parsed once per isolate from its bindings (core/config). A bad
 * or missing setting fails with one error naming every problem.
 */

import { DEFAULT_TAG_HISTORY_MAX_BYTES } from "../core/cache/l1-store";
import { DEFAULT_PENDING_WORK_MAX_BYTES } from "../core/cache/shared-work";
import { DEFAULT_NEGATIVE_CACHE_MAX_BYTES } from "../core/cache/tiered-cache";
import {
  ConfigError,
  cachePoliciesSetting,
  combine,
  commaList,
  httpUrl,
  integer,
  keyPrefix,
  matching,
  optional,
  type Rule,
  readSettings,
  refine,
  refuse,
  required,
  sourceOf,
  switchable,
  text,
  valueOrThrow,
} from "../core/config";
import type { DataClassPolicies } from "../core/data-classes";
import { DEFAULT_KEY_PREFIX } from "../core/keys";
import {
  DEFAULT_ORIGIN_VERSION_PARAM,
  ORIGIN_VERSION_PARAM_PATTERN,
  ORIGIN_VERSION_PARAM_RULE,
} from "../core/tag-versions";
import { WEBHOOK_SECRET_PATTERN } from "../core/webhook-signature";
import { DEFAULT_LOOKUP_MEMO_MAX_BYTES } from "./lookup-memo";
import { REFERENCE_LISTS_MAX_BYTES } from "./reference-catalog";
import { ROUTE_QUERY_PARAMETERS } from "./routes";

/** Bindings that are secrets (`wrangler secret put`), never vars in wrangler.toml. */
export const WORKER_SECRET_BINDINGS = [
  "UPSTASH_REDIS_REST_TOKEN",
  "OPERATOR_TOKEN",
  "PURGE_WEBHOOK_SECRETS",
] as const;

export class WorkerConfigError extends ConfigError {
  override readonly name = "WorkerConfigError";
}

const positive = integer({ min: 1 });
const MIB = 1024 * 1024;

const queryParameterName = matching(ORIGIN_VERSION_PARAM_PATTERN, ORIGIN_VERSION_PARAM_RULE);
/** A query parameter name no route reads: the origin would take the version for a filter. */
const originVersionParam: Rule<string> = {
  expected: `${ORIGIN_VERSION_PARAM_RULE}, none of ${ROUTE_QUERY_PARAMETERS.join(", ")}`,
  parse: (raw) => {
    const parsed = queryParameterName.parse(raw);
    return parsed.ok && ROUTE_QUERY_PARAMETERS.includes(parsed.value) ? refuse() : parsed;
  },
};
const webhookSecret = matching(WEBHOOK_SECRET_PATTERN, "a secret like whsec_<base64>");

const SETTINGS = {
  redisUrl: required("UPSTASH_REDIS_REST_URL", httpUrl),
  redisToken: required("UPSTASH_REDIS_REST_TOKEN", text(), { secret: true }),
  originUrl: required("ORIGIN_URL", httpUrl),
  keyPrefix: optional("KEY_PREFIX", keyPrefix, { fallback: DEFAULT_KEY_PREFIX }),
  /** The freshness promise: each isolate reads the invalidation log at most this often. */
  syncIntervalMs: optional("L1_SYNC_INTERVAL_MS", positive, { fallback: 500 }),
  /**
   * A cap on entries besides the byte budget, which is what bounds memory: at 10,000 a fleet of
   * 8,000 GPUs plus its listings no longer fit, and the tail was re-read from Redis on every pass.
   */
  l1MaxEntries: optional("L1_MAX_ENTRIES", positive, { fallback: 50_000 }),
  originTimeoutMs: optional("ORIGIN_TIMEOUT_MS", positive, { fallback: 5_000 }),
  /**
   * How long an origin 404 answers for its key from the isolate's memory (never L2); 0 keeps
   * none. At most a minute: an entity created without an event naming it stays hidden that long.
   */
  negativeCacheMs: optional("NEGATIVE_CACHE_MS", integer({ min: 0, max: 60_000 }), { fallback: 5_000 }),
  /**
   * The query parameter refills carry their tags' newest version in (core/tag-versions.ts), so
   * CloudFront never answers one with a copy from before an event; `""` turns it off.
   */
  originVersionParam: switchable("ORIGIN_VERSION_PARAM", originVersionParam, {
    fallback: DEFAULT_ORIGIN_VERSION_PARAM,
    off: undefined,
  }),
  policies: cachePoliciesSetting,
  /**
   * Listings from the Redis views the event Lambda keeps (core/redis/listing-views.ts), warmed
   * from the origin on first use; `off` for an origin whose listing cannot page by `after`.
   */
  listingViews: optional("LISTING_VIEWS", matching(/^(on|off)$/, "on or off"), { fallback: "on" }),
  /** Bearer token for /_cache/stats; without it the stats stay closed. */
  operatorToken: optional("OPERATOR_TOKEN", text({ minLength: 16 }), { secret: true }),
  /**
   * Signing secrets of POST /_cache/purge (one, or two during a rotation); without them the
   * endpoint does not exist (workers/cache-purge/).
   */
  purgeSecrets: optional("PURGE_WEBHOOK_SECRETS", commaList(webhookSecret, { min: 1, max: 2 }), {
    secret: true,
  }),
  /**
   * A front cache speaking the HTTP purge protocol (the local Varnish), purged where Workers
   * Cache's `ctx.cache` is absent: workerd has none.
   */
  edgeCachePurgeUrl: optional("EDGE_CACHE_PURGE_URL", httpUrl),
};

/**
 * Byte budgets of the per-isolate structures (core/cache/memory-usage.ts), checked together
 * against what an isolate can spare.
 */
const MEMORY = {
  l1MaxBytes: optional("L1_MAX_BYTES", positive, { fallback: 32 * MIB }),
  negativeCacheMaxBytes: optional("NEGATIVE_CACHE_MAX_BYTES", positive, {
    fallback: DEFAULT_NEGATIVE_CACHE_MAX_BYTES,
  }),
  lookupMemoMaxBytes: optional("LOOKUP_MEMO_MAX_BYTES", positive, {
    fallback: DEFAULT_LOOKUP_MEMO_MAX_BYTES,
  }),
  /** Each of the two maps of pending work (loads in flight, background refreshes). */
  pendingWorkMaxBytes: optional("PENDING_WORK_MAX_BYTES", positive, {
    fallback: DEFAULT_PENDING_WORK_MAX_BYTES,
  }),
};

/**
 * An isolate has 128 MB (Workers platform limit) for everything: the budgets below, requests
 * in flight with their bodies, the bundle and the runtime. Three quarters of it is the most
 * the budgets may add up to.
 */
export const ISOLATE_BUDGET_BYTES = 96 * MIB;
/** The budgets that are no setting: the invalidated-tag history and the reference lists. */
export const FIXED_BUDGET_BYTES = DEFAULT_TAG_HISTORY_MAX_BYTES + REFERENCE_LISTS_MAX_BYTES;

const L2_TIMEOUTS = {
  /** Past this, a request with a stale copy at hand serves it and lets Redis finish in the background. */
  l2SoftTimeoutMs: optional("L2_SOFT_TIMEOUT_MS", positive, { fallback: 50 }),
  l2HardTimeoutMs: optional("L2_HARD_TIMEOUT_MS", positive, { fallback: 1_000 }),
};

export interface WorkerConfig {
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly originUrl: string;
  readonly keyPrefix: string;
  readonly syncIntervalMs: number;
  readonly l1MaxBytes: number;
  readonly l1MaxEntries: number;
  readonly negativeCacheMs: number;
  readonly negativeCacheMaxBytes: number;
  readonly lookupMemoMaxBytes: number;
  readonly pendingWorkMaxBytes: number;
  readonly l2SoftTimeoutMs: number;
  readonly l2HardTimeoutMs: number;
  readonly originTimeoutMs: number;
  /** Undefined: origin fetches carry no tag version. */
  readonly originVersionParam: string | undefined;
  readonly policies: DataClassPolicies;
  readonly listingViews: "on" | "off";
  readonly operatorToken: string | undefined;
  readonly purgeSecrets: readonly string[] | undefined;
  readonly edgeCachePurgeUrl: string | undefined;
}

export function parseWorkerConfig(env: Record<string, unknown>): WorkerConfig {
  const source = sourceOf(env);
  const { settings, memory, timeouts } = valueOrThrow(
    combine({
      settings: readSettings(source, SETTINGS),
      memory: refine(readSettings(source, MEMORY), (read) => {
        const total =
          read.l1MaxBytes +
          read.negativeCacheMaxBytes +
          read.lookupMemoMaxBytes +
          2 * read.pendingWorkMaxBytes +
          FIXED_BUDGET_BYTES;
        return total > ISOLATE_BUDGET_BYTES
          ? [
              `L1_MAX_BYTES, NEGATIVE_CACHE_MAX_BYTES, LOOKUP_MEMO_MAX_BYTES and 2 × PENDING_WORK_MAX_BYTES: ${(total / MIB).toFixed(1)} MiB with the fixed ${FIXED_BUDGET_BYTES / MIB} MiB, more than the ${ISOLATE_BUDGET_BYTES / MIB} MiB an isolate (128 MB) can spare`,
            ]
          : [];
      }),
      // Compared once both are numbers, whatever else is wrong.
      timeouts: refine(readSettings(source, L2_TIMEOUTS), (read) =>
        read.l2SoftTimeoutMs > read.l2HardTimeoutMs
          ? ["L2_SOFT_TIMEOUT_MS: must not exceed L2_HARD_TIMEOUT_MS"]
          : [],
      ),
    }),
    (problems) => new WorkerConfigError("Worker configuration", problems),
  );
  return {
    redisUrl: settings.redisUrl,
    redisToken: settings.redisToken,
    originUrl: settings.originUrl.replace(/\/+$/, ""),
    keyPrefix: settings.keyPrefix,
    syncIntervalMs: settings.syncIntervalMs,
    l1MaxBytes: memory.l1MaxBytes,
    l1MaxEntries: settings.l1MaxEntries,
    negativeCacheMs: settings.negativeCacheMs,
    negativeCacheMaxBytes: memory.negativeCacheMaxBytes,
    lookupMemoMaxBytes: memory.lookupMemoMaxBytes,
    pendingWorkMaxBytes: memory.pendingWorkMaxBytes,
    l2SoftTimeoutMs: timeouts.l2SoftTimeoutMs,
    l2HardTimeoutMs: timeouts.l2HardTimeoutMs,
    originTimeoutMs: settings.originTimeoutMs,
    originVersionParam: settings.originVersionParam,
    policies: settings.policies,
    listingViews: settings.listingViews as "on" | "off",
    operatorToken: settings.operatorToken,
    purgeSecrets: settings.purgeSecrets,
    edgeCachePurgeUrl: settings.edgeCachePurgeUrl,
  };
}
