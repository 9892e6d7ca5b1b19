/**
 * The Worker's settings, parsed once per isolate from its bindings (core/config). A bad
 * or missing setting fails with one error naming every problem.
 */
import {
  ConfigError,
  cachePoliciesSetting,
  combine,
  httpUrl,
  integer,
  keyPrefix,
  optional,
  readSettings,
  refine,
  required,
  sourceOf,
  text,
  valueOrThrow,
} from "../core/config";
import type { DataClassPolicies } from "../core/data-classes";
import { DEFAULT_KEY_PREFIX } from "../core/keys";

/** Bindings that are secrets (`wrangler secret put`), never vars in wrangler.toml. */
export const WORKER_SECRET_BINDINGS = ["UPSTASH_REDIS_REST_TOKEN", "OPERATOR_TOKEN"] as const;

export class WorkerConfigError extends ConfigError {
  override readonly name = "WorkerConfigError";
}

const positive = integer({ min: 1 });

const SETTINGS = {
  redisUrl: required("UPSTASH_REDIS_REST_URL", httpUrl),
  redisToken: required("UPSTASH_REDIS_REST_TOKEN", text(), { secret: true }),
  originUrl: required("ORIGIN_URL", httpUrl),
  keyPrefix: optional("KEY_PREFIX", keyPrefix, { fallback: DEFAULT_KEY_PREFIX }),
  /** The freshness promise: each isolate reads the invalidation log at most this often. */
  syncIntervalMs: optional("L1_SYNC_INTERVAL_MS", positive, { fallback: 500 }),
  l1MaxBytes: optional("L1_MAX_BYTES", positive, { fallback: 32 * 1024 * 1024 }),
  l1MaxEntries: optional("L1_MAX_ENTRIES", positive, { fallback: 10_000 }),
  originTimeoutMs: optional("ORIGIN_TIMEOUT_MS", positive, { fallback: 5_000 }),
  policies: cachePoliciesSetting,
  /** Bearer token for /_cache/stats; without it the stats stay closed. */
  operatorToken: optional("OPERATOR_TOKEN", text({ minLength: 16 }), { secret: true }),
};

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
  readonly l2SoftTimeoutMs: number;
  readonly l2HardTimeoutMs: number;
  readonly originTimeoutMs: number;
  readonly policies: DataClassPolicies;
  readonly operatorToken: string | undefined;
}

export function parseWorkerConfig(env: Record<string, unknown>): WorkerConfig {
  const source = sourceOf(env);
  const { settings, timeouts } = valueOrThrow(
    combine({
      settings: readSettings(source, SETTINGS),
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
    l1MaxBytes: settings.l1MaxBytes,
    l1MaxEntries: settings.l1MaxEntries,
    l2SoftTimeoutMs: timeouts.l2SoftTimeoutMs,
    l2HardTimeoutMs: timeouts.l2HardTimeoutMs,
    originTimeoutMs: settings.originTimeoutMs,
    policies: settings.policies,
    operatorToken: settings.operatorToken,
  };
}
