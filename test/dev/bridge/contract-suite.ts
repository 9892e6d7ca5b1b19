/**
 * Shared pieces of the bridge contract suite: the test matrix, the table of what the
 * emulator backend can and cannot do, and small helpers (raw HTTP calls, unique keys,
 * state inspection behind the bridge's back).
 */
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";

export type BackendKind = "redis" | "emulator";

/**
 * What a backend supports beyond the protocol itself. Both backends answer every command the
 * suite sends with Redis 7.0's replies and error texts; what differs is only what an
 * in-process store cannot have. Assertions that need a capability are gated with
 * `if (!capabilities.x) return`.
 */
export interface Capabilities {
  /** A direct ioredis connection to the same data exists (state and replies seen behind the bridge). */
  readonly directAccess: boolean;
  /** There is a separate server process that can become unreachable. */
  readonly unreachableServer: boolean;
}

export const CAPABILITIES: Readonly<Record<BackendKind, Capabilities>> = {
  redis: {
    directAccess: true,
    unreachableServer: true,
  },
  emulator: {
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
