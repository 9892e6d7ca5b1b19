/**
 * The Worker's settings, parsed once per isolate from its bindings. A bad or
 * missing setting fails with one error naming every problem.
 */
import { z } from "zod";
import { applyPolicyOverrides, type DataClassPolicies } from "../core/data-classes";
import { DEFAULT_KEY_PREFIX } from "../core/keys";

/** Bindings that are secrets (`wrangler secret put`), never vars in wrangler.toml. */
export const WORKER_SECRET_BINDINGS = ["UPSTASH_REDIS_REST_TOKEN", "OPERATOR_TOKEN"] as const;

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

const httpUrl = z.url({ protocol: /^https?$/ });
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const configSchema = z.object({
  UPSTASH_REDIS_REST_URL: httpUrl,
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  ORIGIN_URL: httpUrl,
  KEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/i)
    .default(DEFAULT_KEY_PREFIX),
  /** The freshness promise: each isolate reads the invalidation log at most this often. */
  L1_SYNC_INTERVAL_MS: positiveInt(500),
  L1_MAX_BYTES: positiveInt(32 * 1024 * 1024),
  L1_MAX_ENTRIES: positiveInt(10_000),
  /** Past this, a request with a stale copy at hand serves it and lets Redis finish in the background. */
  L2_SOFT_TIMEOUT_MS: positiveInt(50),
  L2_HARD_TIMEOUT_MS: positiveInt(1_000),
  ORIGIN_TIMEOUT_MS: positiveInt(5_000),
  /** JSON overrides of the data-class policies, e.g. {"availability":{"l1FreshMs":2000}}. */
  CACHE_POLICIES: z.string().optional(),
  /** Bearer token for /_cache/stats; without it the stats stay closed. */
  OPERATOR_TOKEN: z.string().min(16).optional(),
});

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
  // Empty strings are how unset variables often arrive from dashboards and .dev.vars.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = configSchema.safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  let overrides: unknown;
  const policyText = typeof present.CACHE_POLICIES === "string" ? present.CACHE_POLICIES : undefined;
  if (policyText) {
    try {
      overrides = JSON.parse(policyText);
    } catch {
      problems.push("CACHE_POLICIES: not valid JSON");
    }
  }
  const { policies, problems: policyProblems } = applyPolicyOverrides(overrides);
  problems.push(...policyProblems.map((problem) => `CACHE_POLICIES: ${problem}`));
  if (parsed.success && parsed.data.L2_SOFT_TIMEOUT_MS > parsed.data.L2_HARD_TIMEOUT_MS) {
    problems.push("L2_SOFT_TIMEOUT_MS: must not exceed L2_HARD_TIMEOUT_MS");
  }
  if (!parsed.success || problems.length > 0) {
    throw new WorkerConfigError(`invalid Worker configuration: ${problems.join("; ")}`);
  }
  const data = parsed.data;
  return {
    redisUrl: data.UPSTASH_REDIS_REST_URL,
    redisToken: data.UPSTASH_REDIS_REST_TOKEN,
    originUrl: data.ORIGIN_URL.replace(/\/+$/, ""),
    keyPrefix: data.KEY_PREFIX,
    syncIntervalMs: data.L1_SYNC_INTERVAL_MS,
    l1MaxBytes: data.L1_MAX_BYTES,
    l1MaxEntries: data.L1_MAX_ENTRIES,
    l2SoftTimeoutMs: data.L2_SOFT_TIMEOUT_MS,
    l2HardTimeoutMs: data.L2_HARD_TIMEOUT_MS,
    originTimeoutMs: data.ORIGIN_TIMEOUT_MS,
    policies,
    operatorToken: data.OPERATOR_TOKEN,
  };
}
