/**
 * Redis as both Lambdas reach it, read and built in one place: the event Lambda writes
 * through it, and both spend Workers Cache purge calls from the bucket it holds
 * (lambdas/purge/workers-cache/token-bucket.ts), so they must agree on the database and
 * the key prefix.
 *
 * | variable                 | meaning                                          |
 * |--------------------------|--------------------------------------------------|
 * | UPSTASH_REDIS_REST_URL   | http(s) URL                                      |
 * | UPSTASH_REDIS_REST_TOKEN | a secret                                         |
 * | KEY_PREFIX               | optional; must match the Worker's (default `ec`) |
 */
import { Redis } from "@upstash/redis";
import {
  type Checked,
  httpUrl,
  keyPrefix,
  optional,
  readSettings,
  required,
  type SettingSource,
  text,
} from "../../core/config";
import { DEFAULT_KEY_PREFIX } from "../../core/keys";

export const REDIS_SETTINGS = {
  redisUrl: required("UPSTASH_REDIS_REST_URL", httpUrl),
  redisToken: required("UPSTASH_REDIS_REST_TOKEN", text(), { secret: true }),
  keyPrefix: optional("KEY_PREFIX", keyPrefix, { fallback: DEFAULT_KEY_PREFIX }),
};

export interface RedisSettings {
  readonly redisUrl: string;
  readonly redisToken: string;
  readonly keyPrefix: string;
}

export function readRedisSettings(source: SettingSource): Checked<RedisSettings> {
  return readSettings(source, REDIS_SETTINGS);
}

/** The Upstash client both Lambdas use. */
export function redisClient(settings: Pick<RedisSettings, "redisUrl" | "redisToken">): Redis {
  return new Redis({
    url: settings.redisUrl,
    token: settings.redisToken,
    // Record bodies are JSON text and must be stored byte for byte.
    automaticDeserialization: false,
    enableTelemetry: false,
  });
}
