/**
 * Redis as the tests reach it: the Upstash client as the Worker builds it (through a
 * bridge), the backends a script test runs over (the bridge to the real redis-server and
 * the bridge to the in-process emulator), key prefixes no other test shares, hashes read
 * back the way the Worker reads them, and the event Lambda's writes, done through the
 * same bridge so they reach either backend.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { beforeAll, inject } from "vitest";
import { encodeLogFields, INVALIDATION_LOG_MAX_LENGTH } from "../../core/invalidation-log";
import type { Keyspace } from "../../core/keys";
import { encodeL2Record, type L2Record } from "../../core/read-model";
import type { RedisBackend } from "../../dev/bridge/backend";

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

/** One Redis a script test runs over, reached only through its bridge. */
export interface TestBackend {
  /** In test titles: `· redis`, `· emulator`. */
  readonly name: RedisBackend["kind"];
  readonly bridgeUrl: string;
}

/**
 * Every backend the project's scripts are held to, for `describe.for(BACKENDS)("… · $name")`:
 * one test definition, one contract, as test/dev/bridge/contract.test.ts does for the bridge.
 */
export const BACKENDS: readonly TestBackend[] = [
  { name: "redis", bridgeUrl: inject("bridgeUrl") },
  { name: "emulator", bridgeUrl: inject("emulatorBridgeUrl") },
];

/** What a test over one backend works with: the Worker's client and the Lambda's side. */
export interface BackendSides {
  readonly backend: TestBackend;
  /** The Upstash client as the Worker builds it, on this backend's bridge. */
  readonly redis: Redis;
  /** Seeding and inspection behind the code under test, on the same bridge. */
  readonly lambda: LambdaSide;
  /** A key prefix naming the backend, so a key read by eye says where it lives. */
  prefix(label: string): string;
}

/**
 * The clients for one backend; call it inside that backend's `describe`. The real-server
 * half must never quietly run over the emulator (the harness falls back to it when
 * redis-server is missing), so its tests fail first.
 */
export function useBackend(backend: TestBackend): BackendSides {
  beforeAll(() => {
    if (backend.name === "redis" && inject("bridgeBackend") !== "redis") {
      throw new Error("the 'redis' backend needs redis-server on PATH (apt-get install -y redis-server)");
    }
  });
  return {
    backend,
    redis: upstashClient(backend.bridgeUrl),
    lambda: new LambdaSide(backend.bridgeUrl),
    prefix: (label) => uniquePrefix(`${backend.name}-${label}`),
  };
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

export interface AppendLogOptions {
  eventId?: string;
  at?: number;
  /** Trims exactly (`MAXLEN N`), which the tests use to push the log past a cursor. */
  exactMaxLen?: number;
}

/**
 * The event Lambda's side of Redis: L2 records and invalidation-log entries, written
 * as the Lambda's script writes them, through a bridge with the real Upstash client
 * (`redis` for anything else a test seeds or inspects: HSET, SET, DEL, XDEL, pipelines).
 */
export class LambdaSide {
  readonly redis: Redis;

  constructor(bridgeUrl: string = inject("bridgeUrl")) {
    this.redis = upstashClient(bridgeUrl);
  }

  /** Write-through of a record, as the Lambda's atomic step does (HSET of the encoded fields). */
  async writeRecord(key: string, record: L2Record): Promise<void> {
    await this.redis.hset(key, encodeL2Record(record));
  }

  /** `XADD <log> MAXLEN ~ N * tags … event … at …`, or `MAXLEN = N` with `exactMaxLen`. */
  async appendLog(keys: Keyspace, tags: readonly string[], options: AppendLogOptions = {}): Promise<string> {
    const fields = logFields(tags, options);
    return String(await this.redis.xadd(keys.invalidationLog, "*", fields, { trim: trimOf(options) }));
  }

  /** One log entry per tag list, in order, in one pipeline (one round trip however many). */
  async appendLogs(keys: Keyspace, tagLists: ReadonlyArray<readonly string[]>): Promise<string[]> {
    const pipeline = this.redis.pipeline();
    for (const tags of tagLists)
      pipeline.xadd(keys.invalidationLog, "*", logFields(tags, {}), { trim: trimOf({}) });
    return (await pipeline.exec()).map(String);
  }

  /** Nothing to release (every call is its own HTTP request); kept for callers that close it. */
  async close(): Promise<void> {}
}

function logFields(tags: readonly string[], options: AppendLogOptions): Record<string, string> {
  return encodeLogFields({
    tags,
    eventId: options.eventId ?? `evt-${randomUUID()}`,
    at: options.at ?? Date.now(),
  });
}

function trimOf(options: AppendLogOptions) {
  return options.exactMaxLen === undefined
    ? { type: "MAXLEN" as const, comparison: "~" as const, threshold: INVALIDATION_LOG_MAX_LENGTH }
    : { type: "MAXLEN" as const, comparison: "=" as const, threshold: options.exactMaxLen };
}
