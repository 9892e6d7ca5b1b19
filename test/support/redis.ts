/**
 * Redis as the tests reach it: the Upstash client as the Worker builds it (through the
 * bridge to the real redis-server), key prefixes no other test shares, hashes read back
 * the way the Worker reads them, and the event Lambda's writes done directly over ioredis.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { inject } from "vitest";
import { encodeLogFields, INVALIDATION_LOG_MAX_LENGTH } from "../../core/invalidation-log";
import type { Keyspace } from "../../core/keys";
import { encodeL2Record, type L2Record } from "../../core/read-model";

const RUN_ID = randomUUID().slice(0, 8);
let prefixCounter = 0;

/** A key prefix no other test (in this run or an earlier one) uses. */
export function uniquePrefix(label: string): string {
  prefixCounter += 1;
  const safe = label.toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
  return `tc-${RUN_ID}-${safe}-${prefixCounter}`;
}

/** The Upstash client exactly as the Worker builds it (workers/index.ts). */
export function upstashClient(url: string = inject("bridgeUrl")): Redis {
  return new Redis({
    url,
    token: inject("bridgeToken"),
    automaticDeserialization: false,
    retry: false,
    enableTelemetry: false,
  });
}

/** A Redis hash read back through the Upstash client (which hands HGETALL back as a flat array). */
export async function readHash(redis: Redis, key: string): Promise<Record<string, string> | undefined> {
  const raw: unknown = await redis.hgetall(key);
  if (raw === null || (Array.isArray(raw) && raw.length === 0)) return undefined;
  if (!Array.isArray(raw)) return raw as Record<string, string>;
  const fields: Record<string, string> = {};
  for (let index = 0; index + 1 < raw.length; index += 2) fields[String(raw[index])] = String(raw[index + 1]);
  return fields;
}

/** The event Lambda's side of Redis: L2 records and invalidation-log entries, written directly. */
export class LambdaSide {
  readonly io: IORedis;

  constructor(url: string = inject("redisUrl")) {
    if (!url)
      throw new Error("these tests need the harness's real redis-server (inject('redisUrl') is empty)");
    this.io = new IORedis(url, { maxRetriesPerRequest: 1 });
  }

  /** Write-through of a record, as the Lambda's atomic step does (HSET of the encoded fields). */
  async writeRecord(key: string, record: L2Record): Promise<void> {
    await this.io.hset(key, encodeL2Record(record));
  }

  /**
   * `XADD <log> MAXLEN ~ N * tags … event … at …`; `exactMaxLen` trims exactly
   * (`MAXLEN N`), which the tests use to push the log past a cursor.
   */
  async appendLog(
    keys: Keyspace,
    tags: readonly string[],
    options: { eventId?: string; at?: number; exactMaxLen?: number } = {},
  ): Promise<string> {
    const fields = encodeLogFields({
      tags,
      eventId: options.eventId ?? `evt-${randomUUID()}`,
      at: options.at ?? Date.now(),
    });
    const trim =
      options.exactMaxLen === undefined
        ? ["MAXLEN", "~", String(INVALIDATION_LOG_MAX_LENGTH)]
        : ["MAXLEN", String(options.exactMaxLen)];
    const id = await this.io.call(
      "XADD",
      keys.invalidationLog,
      ...trim,
      "*",
      ...Object.entries(fields).flat(),
    );
    return String(id);
  }

  async close(): Promise<void> {
    await this.io.quit();
  }
}
