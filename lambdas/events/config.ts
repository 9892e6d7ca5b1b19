/**
 * The event Lambda's settings, parsed once per cold start. A bad or missing setting
 * fails with one error naming every problem. Secrets arrive already resolved (the
 * Lambda reads them from its environment; the local stack passes them in). The CDN
 * settings are the purgers' own (lambdas/purge/config.ts).
 */
import { z } from "zod";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";

export class EventsConfigError extends Error {
  override readonly name = "EventsConfigError";
}

const schema = z.object({
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  /** One secret, or two separated by a comma during a rotation. */
  WEBHOOK_SECRETS: z
    .string()
    .min(1)
    .transform((text) =>
      text
        .split(",")
        .map((secret) => secret.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "each secret must look like whsec_<base64>"))
        .min(1)
        .max(2),
    ),
  KEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/i)
    .default(DEFAULT_KEY_PREFIX),
});

export interface EventsConfig {
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly secrets: readonly string[];
  readonly keyPrefix: string;
}

export function parseEventsConfig(env: Record<string, string | undefined>): EventsConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new EventsConfigError(`invalid event Lambda configuration: ${problems.join("; ")}`);
  }
  return {
    redisUrl: parsed.data.UPSTASH_REDIS_REST_URL,
    redisToken: parsed.data.UPSTASH_REDIS_REST_TOKEN,
    secrets: parsed.data.WEBHOOK_SECRETS,
    keyPrefix: parsed.data.KEY_PREFIX,
  };
}
