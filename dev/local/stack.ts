/**
 * The whole system on one machine, no cloud account (DESIGN "Local stack"):
 * Redis (a redis-server child, or the in-process emulator), the Upstash REST
 * bridge, the sample origin, the event app with the CDN fakes, the SQS fake with the
 * purge-retry queue and a poller running the retry handler, and the edge Worker in
 * workerd through `wrangler dev`.
 * Used by `npm start`, the end-to-end tests and the benchmarks.
 */
import { createServer } from "node:net";
import { startBridgeServer } from "../bridge/server";
import { startOriginServer } from "../origin/server";
import { startEventPipeline } from "./event-pipeline";
import { freePort } from "./ports";
import { findRedisServer, startRedisServer } from "./redis-server";
import { startWranglerDev } from "./wrangler-dev";

export const DEFAULT_PORTS = { edge: 8787, origin: 8788, redisRest: 8789, events: 8790 } as const;
export const DEFAULT_LOCAL_TOKEN = "local-dev-token";
/**
 * The local signing secret when WEBHOOK_SECRET is unset. For development only: it is
 * in the source, so anyone can sign with it.
 */
export const DEFAULT_WEBHOOK_SECRET = "whsec_Z3B1LWVkZ2UtY2FjaGUgbG9jYWwgZGV2IHNlY3JldCE=";
/** Opens the Worker's /_cache/stats locally. */
export const DEFAULT_LOCAL_OPERATOR_TOKEN = "local-operator-token";

export class LocalStackError extends Error {
  override readonly name = "LocalStackError";
}

export interface LocalStackOptions {
  /** Explicit ports must be free; unset ones use the defaults, or a free port when a default is taken. */
  readonly ports?: { edge?: number; origin?: number; redisRest?: number; events?: number };
  /** Signs and verifies local webhooks (default DEFAULT_WEBHOOK_SECRET). */
  readonly webhookSecret?: string;
  /** Use this Redis instead of starting one. */
  readonly redisUrl?: string;
  /** Run over the in-process emulator even when redis-server exists. */
  readonly emulator?: boolean;
  readonly token?: string;
  readonly originSeed?: number;
  /**
   * Bindings for the Worker beyond the stack's own (e.g. L1_SYNC_INTERVAL_MS). CACHE_POLICIES
   * reaches the event app too, as the CDK app passes it to the deployed Lambda.
   */
  readonly edgeVars?: Readonly<Record<string, string>>;
  /** Receives the Worker's (wrangler's) output lines. */
  readonly onEdgeOutput?: (line: string) => void;
  /** Where the event side (event app, purgers, retry poller) logs; default: warnings and errors only. */
  readonly eventLogger?: Pick<Console, "info" | "warn" | "error">;
}

export interface LocalService {
  readonly name: string;
  readonly url: string;
}

export interface LocalStack {
  /** In start order: redis, redis-rest, origin, cloudflare-fake, cloudfront-fake, sqs-fake, events, edge. */
  readonly services: readonly LocalService[];
  readonly urls: {
    readonly edge: string;
    /** The webhook URL of the event app. */
    readonly events: string;
    /** What the CDN fakes recorded (GET). */
    readonly cloudflareFake: string;
    readonly cloudfrontFake: string;
    /** The SQS fake's queues and messages (GET). */
    readonly sqsFake: string;
    readonly origin: string;
    readonly redisRest: string;
    readonly redis: string;
  };
  readonly redisBackend: "redis-server" | "external" | "emulator";
  readonly token: string;
  /** Bearer token for the Worker's /_cache/stats. */
  readonly operatorToken: string;
  /** Stops every child and server this stack started; safe to call twice. */
  stop(): Promise<void>;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function choosePort(name: string, explicit: number | undefined, fallback: number): Promise<number> {
  if (explicit !== undefined) {
    if (explicit === 0) return freePort();
    if (!(await isPortFree(explicit)))
      throw new LocalStackError(`${name} port ${explicit} is already in use`);
    return explicit;
  }
  return (await isPortFree(fallback)) ? fallback : freePort();
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const token = options.token ?? DEFAULT_LOCAL_TOKEN;
  const operatorToken = DEFAULT_LOCAL_OPERATOR_TOKEN;
  const stops: Array<() => Promise<void>> = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const step of stops.reverse()) await step().catch(() => {});
  };

  try {
    const [edgePort, originPort, redisRestPort, eventsPort] = [
      await choosePort("edge", options.ports?.edge, DEFAULT_PORTS.edge),
      await choosePort("origin", options.ports?.origin, DEFAULT_PORTS.origin),
      await choosePort("redis-rest", options.ports?.redisRest, DEFAULT_PORTS.redisRest),
      await choosePort("events", options.ports?.events, DEFAULT_PORTS.events),
    ];

    let redisUrl = options.redisUrl;
    let redisBackend: LocalStack["redisBackend"] = redisUrl ? "external" : "emulator";
    if (!redisUrl && !options.emulator && findRedisServer()) {
      const redis = await startRedisServer();
      stops.push(() => redis.stop());
      redisUrl = redis.url;
      redisBackend = "redis-server";
    }

    const bridge = await startBridgeServer({ token, port: redisRestPort, ...(redisUrl ? { redisUrl } : {}) });
    stops.push(() => bridge.close());
    const origin = await startOriginServer({
      port: originPort,
      ...(options.originSeed !== undefined ? { seed: options.originSeed } : {}),
    });
    stops.push(() => origin.close());

    const pipeline = await startEventPipeline({
      redisRestUrl: bridge.url,
      token,
      webhookSecret: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET,
      port: eventsPort,
      // Deployed, the CDK passes the same overrides to the Lambda (cdk/lib/config.ts cachePolicies).
      ...(options.edgeVars?.CACHE_POLICIES ? { cachePolicies: options.edgeVars.CACHE_POLICIES } : {}),
      ...(options.eventLogger ? { logger: options.eventLogger } : {}),
    });
    stops.push(() => pipeline.stop());

    const edge = await startWranglerDev({
      port: edgePort,
      vars: {
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: token,
        ORIGIN_URL: origin.url,
        OPERATOR_TOKEN: operatorToken,
        ...options.edgeVars,
      },
      ...(options.onEdgeOutput ? { onOutput: options.onEdgeOutput } : {}),
    }).catch((error: unknown) => {
      throw new LocalStackError(`the edge Worker did not start: ${(error as Error).message}`, {
        cause: error,
      });
    });
    stops.push(() => edge.stop());
    const edgeUrl = edge.url;

    const urls = {
      edge: edgeUrl,
      events: pipeline.url,
      cloudflareFake: `${pipeline.cloudflareFake.url}/_fake/purges`,
      cloudfrontFake: `${pipeline.cloudfrontFake.url}/_fake/purges`,
      sqsFake: `${pipeline.sqsFake?.url}/_fake/queues`,
      origin: origin.url,
      redisRest: bridge.url,
      redis: redisUrl ?? "emulator://in-process",
    };
    return {
      services: [
        { name: "redis", url: urls.redis },
        { name: "redis-rest", url: urls.redisRest },
        { name: "origin", url: urls.origin },
        { name: "cloudflare-fake", url: urls.cloudflareFake },
        { name: "cloudfront-fake", url: urls.cloudfrontFake },
        { name: "sqs-fake", url: urls.sqsFake },
        { name: "events", url: urls.events },
        { name: "edge", url: urls.edge },
      ],
      urls,
      redisBackend,
      token,
      operatorToken,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
