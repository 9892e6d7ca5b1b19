/**
 * Shared pieces of the bridge contract suite: the test matrix, the table of what the
 * emulator backend can and cannot do, and small helpers (raw HTTP calls, unique keys,
 * state inspection behind the bridge's back).
 */
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";

export type BackendKind = "redis" | "emulator";

/**
 * What a backend supports beyond the protocol itself. The real server supports everything;
 * only the emulator (ioredis-mock) has `false` entries, each naming the gap. Assertions that
 * need a capability are gated with `if (!capabilities.x) return`.
 */
export interface Capabilities {
  /** Error replies carry Redis's exact text (`WRONGTYPE Operation against …`). */
  readonly exactErrorTexts: boolean;
  /** A command with the wrong number of arguments is an error (and aborts a transaction at queue time). */
  readonly arityErrors: boolean;
  /** INCR/INCRBY on a non-integer value fails with `ERR value is not an integer or out of range`. */
  readonly integerErrors: boolean;
  /** ZRANGE … BYSCORE honours fractional bounds. */
  readonly fractionalScoreBounds: boolean;
  /** STRLEN counts bytes (of the UTF-8 the bridge stored). */
  readonly byteLengths: boolean;
  /** XTRIM exists. */
  readonly streamsTrim: boolean;
  /** TYPE of a stream key answers `stream`. */
  readonly streamType: boolean;
  /** SCRIPT EXISTS / SCRIPT FLUSH exist. */
  readonly scriptCommands: boolean;
  /** PUBSUB NUMSUB exists (to see that the bridge closed its subscriber connection). */
  readonly pubsubIntrospection: boolean;
  /** A direct ioredis connection to the same data exists (plant raw bytes, verify state). */
  readonly directAccess: boolean;
  /** There is a separate server process that can become unreachable. */
  readonly unreachableServer: boolean;
}

export const CAPABILITIES: Readonly<Record<BackendKind, Capabilities>> = {
  redis: {
    exactErrorTexts: true,
    arityErrors: true,
    integerErrors: true,
    fractionalScoreBounds: true,
    byteLengths: true,
    streamsTrim: true,
    streamType: true,
    scriptCommands: true,
    pubsubIntrospection: true,
    directAccess: true,
    unreachableServer: true,
  },
  emulator: {
    // ioredis-mock words errors its own way ("ERR Key k does not contain a list" for WRONGTYPE)
    // and answers several type mismatches with null instead of an error (HGET on a string).
    exactErrorTexts: false,
    // ioredis-mock checks no argument counts: a bare ["set"] answers OK, even inside MULTI.
    arityErrors: false,
    // ioredis-mock's INCR on "abc" yields NaN (sent as null) instead of an error.
    integerErrors: false,
    // ioredis-mock parses BYSCORE bounds as integers: ZRANGE k 3.2 10 BYSCORE includes score 3.
    fractionalScoreBounds: false,
    // ioredis-mock's STRLEN is the JS string length (UTF-16 code units), not the byte count.
    byteLengths: false,
    // ioredis-mock 8.13 has no XTRIM ("ERR Unsupported command: \"xtrim\"").
    streamsTrim: false,
    // ioredis-mock stores streams as lists: TYPE answers "list".
    streamType: false,
    // ioredis-mock has no SCRIPT command (EVAL/EVALSHA and NOSCRIPT do work).
    scriptCommands: false,
    // ioredis-mock: PUBSUB NUMSUB is "ERR Currently not implemented as a mock".
    pubsubIntrospection: false,
    // The emulator lives inside the global-setup process: only its bridge reaches its data.
    directAccess: false,
    // The emulator is in-process: there is no server to stop.
    unreachableServer: false,
  },
};

export type ResponseEncoding = "base64" | false;

export interface Combo {
  readonly name: string;
  readonly slug: string;
  readonly backend: BackendKind;
  readonly responseEncoding: ResponseEncoding;
  readonly enableAutoPipelining: boolean;
}

/** backend × responseEncoding × enableAutoPipelining: every combination. */
export const COMBOS: readonly Combo[] = (["redis", "emulator"] as const).flatMap((backend) =>
  (["base64", false] as const).flatMap((responseEncoding) =>
    [true, false].map((enableAutoPipelining) => ({
      name: `${backend} · encoding ${responseEncoding || "utf8"} · auto-pipelining ${enableAutoPipelining ? "on" : "off"}`,
      slug: `${backend}-${responseEncoding || "utf8"}-${enableAutoPipelining ? "ap" : "noap"}`,
      backend,
      responseEncoding,
      enableAutoPipelining,
    })),
  ),
);

/** Per-run salt so keys never collide with data from an earlier run against the same server. */
const RUN_ID = Math.random().toString(36).slice(2, 8);
let prefixCounter = 0;

/** A fresh key prefix: `ct:<run>:<combo>:<n>`. Call once per test. */
export function uniquePrefix(combo: Combo): string {
  prefixCounter += 1;
  return `ct:${RUN_ID}:${combo.slug}:${prefixCounter}`;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON; throws (failing the test) when the body is not JSON. */
  json(): unknown;
}

export interface RawOptions {
  /** Replaces the default headers (authorization, content-type, Upstash-Encoding per combo). */
  readonly headers?: Record<string, string>;
  readonly method?: string;
  readonly signal?: AbortSignal;
  /** Leave out the default `Upstash-Encoding: base64` even when the combo uses it. */
  readonly utf8?: boolean;
}

export function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, "content-type": "application/json" };
}

/**
 * One HTTP request to a bridge, as the client would send it: POST, bearer token, JSON body,
 * and `Upstash-Encoding: base64` when `encoding` is base64. A string body is sent verbatim.
 */
export async function rawRequest(
  baseUrl: string,
  token: string,
  encoding: ResponseEncoding,
  path: string,
  body: unknown,
  options: RawOptions = {},
): Promise<RawResponse> {
  const headers = options.headers ?? {
    ...authHeaders(token),
    ...(encoding === "base64" && !options.utf8 ? { "upstash-encoding": "base64" } : {}),
  };
  const method = options.method ?? "POST";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(method === "GET" || method === "HEAD"
      ? {}
      : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

export function base64(value: string | Uint8Array): string {
  return Buffer.from(value).toString("base64");
}

/** Reads state behind the client's back: ioredis straight to the server, else the bridge in UTF-8 mode. */
export interface Inspector {
  /** ioredis straight to the real server; undefined for the emulator. */
  readonly direct: IORedis | undefined;
  exists(...keys: string[]): Promise<number>;
  get(key: string): Promise<string | null>;
  close(): Promise<void>;
}

export function createInspector(
  backend: BackendKind,
  bridge: { url: string; token: string },
  redisUrl: string,
): Inspector {
  if (backend === "redis") {
    const direct = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    return {
      direct,
      exists: (...keys) => direct.exists(...keys),
      get: (key) => direct.get(key),
      close: async () => {
        direct.disconnect();
      },
    };
  }
  const call = async (command: unknown[]) => {
    const response = await rawRequest(bridge.url, bridge.token, false, "/", command);
    if (response.status !== 200) throw new Error(`inspector ${JSON.stringify(command)}: ${response.text}`);
    return (response.json() as { result: unknown }).result;
  };
  return {
    direct: undefined,
    exists: async (...keys) => Number(await call(["exists", ...keys])),
    get: async (key) => (await call(["get", key])) as string | null,
    close: async () => {},
  };
}

export type ClientOptions = Partial<Omit<RedisConfigNodejs, "url" | "token">>;

/** The real @upstash/redis client for a combo (telemetry headers off to keep requests lean). */
export function createClient(combo: Combo, url: string, token: string, options: ClientOptions = {}): Redis {
  return new Redis({
    url,
    token,
    responseEncoding: combo.responseEncoding,
    enableAutoPipelining: combo.enableAutoPipelining,
    enableTelemetry: false,
    ...options,
  });
}

/** Rejects when `promise` has not settled within `ms`: a hang becomes a failure, not a stuck run. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
