/**
 * The Worker's settings, parsed once per isolate from its bindings. A bad or
 * missing setting fails the request with one error naming every problem.
 */
import { z } from "zod";
import { DEFAULT_KEY_PREFIX } from "../core/keys";

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

const httpUrl = z.url({ protocol: /^https?$/ });

const configSchema = z.object({
  UPSTASH_REDIS_REST_URL: httpUrl,
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  ORIGIN_URL: httpUrl,
  KEY_PREFIX: z.string().min(1).default(DEFAULT_KEY_PREFIX),
});

export interface WorkerConfig {
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly originUrl: string;
  readonly keyPrefix: string;
}

export function parseWorkerConfig(env: Record<string, unknown>): WorkerConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new WorkerConfigError(`invalid Worker configuration: ${problems.join("; ")}`);
  }
  return {
    redisUrl: parsed.data.UPSTASH_REDIS_REST_URL,
    redisToken: parsed.data.UPSTASH_REDIS_REST_TOKEN,
    originUrl: parsed.data.ORIGIN_URL.replace(/\/+$/, ""),
    keyPrefix: parsed.data.KEY_PREFIX,
  };
}
