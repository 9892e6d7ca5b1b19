/**
 * The event Lambda's settings, parsed once per cold start. A bad or missing setting
 * fails with one error naming every problem. Secrets arrive already resolved (the
 * Lambda handler reads them from Secrets Manager; the local stack passes them in).
 */
import { z } from "zod";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";

export class EventsConfigError extends Error {
  override readonly name = "EventsConfigError";
}

const httpUrl = z.url({ protocol: /^https?$/ });

const schema = z.object({
  UPSTASH_REDIS_REST_URL: httpUrl,
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
  CLOUDFLARE_API_TOKEN: z.string().min(1).optional(),
  CLOUDFLARE_ZONE_ID: z.string().min(1).optional(),
  /** Points the Cloudflare SDK elsewhere (the local fake). */
  CLOUDFLARE_BASE_URL: httpUrl.optional(),
  CLOUDFRONT_DISTRIBUTION_ID: z.string().min(1).optional(),
  /** Points the CloudFront SDK elsewhere (the local fake). */
  CLOUDFRONT_ENDPOINT: httpUrl.optional(),
});

export interface EventsConfig {
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly secrets: readonly string[];
  readonly keyPrefix: string;
  readonly cloudflare:
    | { readonly apiToken: string; readonly zoneId: string; readonly baseUrl?: string }
    | undefined;
  readonly cloudfront: { readonly distributionId: string; readonly endpoint?: string } | undefined;
}

export function parseEventsConfig(env: Record<string, string | undefined>): EventsConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = schema.safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  if (
    parsed.success &&
    Boolean(parsed.data.CLOUDFLARE_API_TOKEN) !== Boolean(parsed.data.CLOUDFLARE_ZONE_ID)
  ) {
    problems.push("CLOUDFLARE_API_TOKEN and CLOUDFLARE_ZONE_ID: set both or neither");
  }
  if (!parsed.success || problems.length > 0) {
    throw new EventsConfigError(`invalid event Lambda configuration: ${problems.join("; ")}`);
  }
  const data = parsed.data;
  return {
    redisUrl: data.UPSTASH_REDIS_REST_URL,
    redisToken: data.UPSTASH_REDIS_REST_TOKEN,
    secrets: data.WEBHOOK_SECRETS,
    keyPrefix: data.KEY_PREFIX,
    cloudflare:
      data.CLOUDFLARE_API_TOKEN && data.CLOUDFLARE_ZONE_ID
        ? {
            apiToken: data.CLOUDFLARE_API_TOKEN,
            zoneId: data.CLOUDFLARE_ZONE_ID,
            ...(data.CLOUDFLARE_BASE_URL ? { baseUrl: data.CLOUDFLARE_BASE_URL } : {}),
          }
        : undefined,
    cloudfront: data.CLOUDFRONT_DISTRIBUTION_ID
      ? {
          distributionId: data.CLOUDFRONT_DISTRIBUTION_ID,
          ...(data.CLOUDFRONT_ENDPOINT ? { endpoint: data.CLOUDFRONT_ENDPOINT } : {}),
        }
      : undefined,
  };
}
