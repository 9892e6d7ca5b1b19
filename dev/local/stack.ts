/**
 * The whole system on one machine, no cloud account (docs/architecture.md "Local stack"):
 * Redis (a redis-server child, or the in-process emulator), the Upstash REST
 * bridge, the sample origin, the event app with the CDN fakes, the SQS fake with the
 * purge-retry queue and a poller running the retry handler, and the edge Worker in
 * workerd through `wrangler dev`. With varnishd, two real HTTP caches around the Worker
 * (dev/varnish/): the front one where Workers Cache is deployed, the back one where CloudFront
 * is, which the CloudFront fake bans once an invalidation completes.
 * Used by `npm start`, the end-to-end tests and the benchmarks.
 *
 * Start order, so every URL exists before what points at it: the origin, the back cache in
 * front of it, the event side (its CloudFront fake bans the back cache), the Worker (ORIGIN_URL
 * the back cache; EDGE_CACHE_PURGE_URL the front cache, whose port is chosen first), the front
 * cache in front of the Worker.
 */
import { PUBLIC_DEV_TOKEN, startBridgeServer } from "../bridge/server";
import { startOriginServer } from "../origin/server";
import { freePort, isPortFree } from "../support/ports";
import { findVarnishd, type RunningVarnish, startVarnish, VARNISH_INSTALL_HINT } from "../varnish/varnishd";
import { startStackDashboard } from "./dashboard/stack-dashboard";
import { startEventPipeline } from "./event-pipeline";
import { findRedisServer, type RedisServerChild, startRedisServer } from "./redis-server";
import { startWranglerDev } from "./wrangler-dev";

/**
 * `worker` and `originCache` only serve with HTTP caches (then `edge` is the front cache's);
 * `dashboard` only with the `dashboard` option.
 */
export const DEFAULT_PORTS = {
  edge: 8787,
  origin: 8788,
  redisRest: 8789,
  events: 8790,
  worker: 8791,
  originCache: 8792,
  dashboard: 8793,
} as const;
/** The bridge's public default token (dev/bridge/server.ts), under the name the local tools use. */
export const DEFAULT_LOCAL_TOKEN = PUBLIC_DEV_TOKEN;
/**
 * The local signing secret when WEBHOOK_SECRET is unset. For development only: it is
 * in the source, so anyone can sign with it.
 */
export const DEFAULT_WEBHOOK_SECRET = "whsec_Z3B1LWVkZ2UtY2FjaGUgbG9jYWwgZGV2IHNlY3JldCE=";
/**
 * Signs the event side's Workers Cache purges to the Worker's /_cache/purge, as the
 * Lambdas' WORKERS_CACHE_PURGE_SECRET and the Worker's PURGE_WEBHOOK_SECRETS share one
 * value when deployed. Development only, like DEFAULT_WEBHOOK_SECRET.
 */
export const DEFAULT_PURGE_WEBHOOK_SECRET = "whsec_Z3B1LWVkZ2UtY2FjaGUgbG9jYWwgcHVyZ2Ugc2VjcmV0IQ==";
/** Opens the Worker's /_cache/stats locally. */
export const DEFAULT_LOCAL_OPERATOR_TOKEN = "local-operator-token";

/** As CloudFront completes an invalidation later, the fake bans the back cache this long after accepting one. */
export const DEFAULT_CLOUDFRONT_COMPLETION_DELAY_MS = 3_000;

export class LocalStackError extends Error {
  override readonly name = "LocalStackError";
}

/**
 * The HTTP caches around the Worker. `auto`: Varnish when varnishd is found, else none (but with
 * CI=true a missing varnishd is an error: CI must run the real tiers). `varnish`: Varnish or an
 * error. `none`: the Worker alone.
 */
export type HttpCachesOption = "auto" | "varnish" | "none";

export interface LocalStackOptions {
  /**
   * Explicit ports must be free; unset ones use the defaults, or a free port when a default is taken.
   * `edge` is the front cache's with HTTP caches, else the Worker's.
   */
  readonly ports?: {
    edge?: number;
    origin?: number;
    redisRest?: number;
    events?: number;
    worker?: number;
    originCache?: number;
    dashboard?: number;
  };
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
  /** Default "auto". */
  readonly httpCaches?: HttpCachesOption;
  /** With HTTP caches: how long after accepting an invalidation the CloudFront fake bans the back cache. */
  readonly cloudfrontCompletionDelayMs?: number;
  /** Receives each varnishd's output lines. */
  readonly onHttpCacheOutput?: (cache: "edge-cache" | "origin-cache", line: string) => void;
  /** Serve the live dashboard (dev/local/dashboard/) too; default false (npm start turns it on). */
  readonly dashboard?: boolean;
}

export interface LocalService {
  readonly name: string;
  readonly url: string;
}

export interface LocalStack {
  /**
   * In start order: redis, redis-rest, origin, (origin-cache), cloudflare-fake, cloudfront-fake,
   * sqs-fake, events, (worker), (dashboard), edge; the first two in brackets with HTTP caches
   * only, the dashboard with its option (started last, but listed before the edge, whose line
   * stays the last one: the one that says the stack is up).
   */
  readonly services: readonly LocalService[];
  readonly urls: {
    /** What clients use: the front cache (Workers Cache's role), or the Worker when there is none. */
    readonly edge: string;
    /** The Worker itself (equal to `edge` without HTTP caches). */
    readonly worker: string;
    /** The Worker's ORIGIN_URL: the back cache (CloudFront's role), or the origin when there is none. */
    readonly originCache: string;
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
    /** The live dashboard, with the `dashboard` option. */
    readonly dashboard?: string;
  };
  readonly redisBackend: "redis-server" | "external" | "emulator";
  /** With redisBackend "redis-server": the child, to kill it and restart it empty (test/chaos/). */
  readonly redisServer?: Pick<RedisServerChild, "kill" | "restart">;
  /** Which HTTP caches run around the Worker. */
  readonly httpCaches: "varnish" | "none";
  /** Without HTTP caches: one line saying which tiers are missing and why. */
  readonly httpCachesNote?: string;
  readonly token: string;
  /** Bearer token for the Worker's /_cache/stats. */
  readonly operatorToken: string;
  /** Calls the event side has sent to the Worker's /_cache/purge so far (Workers Cache purges). */
  workersCachePurgeCalls(): number;
  /** Stops every child and server this stack started; safe to call twice. */
  stop(): Promise<void>;
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

type HttpCachesChoice =
  | { readonly kind: "varnish"; readonly binary: string }
  | { readonly kind: "none"; readonly note: string };

function chooseHttpCaches(option: HttpCachesOption): HttpCachesChoice {
  if (option === "none")
    return {
      kind: "none",
      note: "http caches: none (turned off: the Worker answers clients and reads the origin)",
    };
  const binary = findVarnishd();
  if (binary) return { kind: "varnish", binary };
  if (option === "varnish")
    throw new LocalStackError(
      `httpCaches "varnish" needs varnishd, which is not installed (${VARNISH_INSTALL_HINT})`,
    );
  if (process.env.CI === "true")
    throw new LocalStackError(
      `CI=true but varnishd is not installed: the Workers Cache and CloudFront tiers need it (${VARNISH_INSTALL_HINT})`,
    );
  return {
    kind: "none",
    note: "http caches: none (varnishd not found: install varnish varnish-modules for the Workers Cache and CloudFront tiers)",
  };
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
    const httpCaches = chooseHttpCaches(options.httpCaches ?? "auto");
    const [edgePort, originPort, redisRestPort, eventsPort] = [
      await choosePort("edge", options.ports?.edge, DEFAULT_PORTS.edge),
      await choosePort("origin", options.ports?.origin, DEFAULT_PORTS.origin),
      await choosePort("redis-rest", options.ports?.redisRest, DEFAULT_PORTS.redisRest),
      await choosePort("events", options.ports?.events, DEFAULT_PORTS.events),
    ];
    const varnishPorts =
      httpCaches.kind === "varnish"
        ? {
            worker: await choosePort("worker", options.ports?.worker, DEFAULT_PORTS.worker),
            originCache: await choosePort(
              "origin-cache",
              options.ports?.originCache,
              DEFAULT_PORTS.originCache,
            ),
          }
        : undefined;
    const startCache = async (
      name: "edge-cache" | "origin-cache",
      role: "front" | "back",
      backendPort: number,
      port: number,
    ): Promise<RunningVarnish> => {
      const onOutput = options.onHttpCacheOutput;
      const cache = await startVarnish({
        role,
        backend: { host: "127.0.0.1", port: backendPort },
        port,
        ...(httpCaches.kind === "varnish" ? { binary: httpCaches.binary } : {}),
        ...(onOutput ? { onOutput: (line: string) => onOutput(name, line) } : {}),
      }).catch((error: unknown) => {
        throw new LocalStackError(`the ${name} (varnishd) did not start: ${(error as Error).message}`, {
          cause: error,
        });
      });
      stops.push(() => cache.stop());
      return cache;
    };

    let redisUrl = options.redisUrl;
    let redisBackend: LocalStack["redisBackend"] = redisUrl ? "external" : "emulator";
    let redisServer: RedisServerChild | undefined;
    if (!redisUrl && !options.emulator && findRedisServer()) {
      const redis = await startRedisServer();
      redisServer = redis;
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
    const originCache = varnishPorts
      ? await startCache("origin-cache", "back", origin.port, varnishPorts.originCache)
      : undefined;

    // The Worker's signed purge endpoint purges the front cache; without one there is nothing to purge.
    const workerPort = varnishPorts?.worker ?? edgePort;
    const workersCachePurge = varnishPorts
      ? { url: `http://127.0.0.1:${workerPort}/_cache/purge`, secret: DEFAULT_PURGE_WEBHOOK_SECRET }
      : undefined;
    const pipeline = await startEventPipeline({
      ...(workersCachePurge ? { workersCachePurge } : {}),
      redisRestUrl: bridge.url,
      token,
      webhookSecret: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET,
      port: eventsPort,
      // Deployed, the CDK passes the same overrides to the Lambda (cdk/lib/config.ts cachePolicies).
      ...(options.edgeVars?.CACHE_POLICIES ? { cachePolicies: options.edgeVars.CACHE_POLICIES } : {}),
      ...(options.eventLogger ? { logger: options.eventLogger } : {}),
      ...(originCache
        ? {
            cloudfrontBans: {
              url: originCache.url,
              completionDelayMs:
                options.cloudfrontCompletionDelayMs ?? DEFAULT_CLOUDFRONT_COMPLETION_DELAY_MS,
            },
          }
        : {}),
    });
    stops.push(() => pipeline.stop());

    const frontUrl = `http://127.0.0.1:${edgePort}`;
    const worker = await startWranglerDev({
      port: workerPort,
      vars: {
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: token,
        ORIGIN_URL: originCache?.url ?? origin.url,
        OPERATOR_TOKEN: operatorToken,
        // Where the Worker's purge endpoint purges the front cache (there is no ctx.cache in workerd).
        ...(varnishPorts
          ? { EDGE_CACHE_PURGE_URL: frontUrl, PURGE_WEBHOOK_SECRETS: DEFAULT_PURGE_WEBHOOK_SECRET }
          : {}),
        ...options.edgeVars,
      },
      ...(options.onEdgeOutput ? { onOutput: options.onEdgeOutput } : {}),
    }).catch((error: unknown) => {
      throw new LocalStackError(`the edge Worker did not start: ${(error as Error).message}`, {
        cause: error,
      });
    });
    stops.push(() => worker.stop());
    const front = varnishPorts
      ? await startCache("edge-cache", "front", varnishPorts.worker, edgePort)
      : undefined;
    const dashboard = options.dashboard
      ? await startStackDashboard({
          port: await choosePort("dashboard", options.ports?.dashboard, DEFAULT_PORTS.dashboard),
          bridge,
          pipeline,
          workerUrl: worker.url,
          operatorToken,
          httpCaches:
            front && originCache
              ? { front, back: originCache }
              : { none: httpCaches.kind === "none" ? httpCaches.note : "http caches: none" },
        }).catch((error: unknown) => {
          throw new LocalStackError(`the dashboard did not start: ${(error as Error).message}`, {
            cause: error,
          });
        })
      : undefined;
    if (dashboard) stops.push(() => dashboard.close());

    const urls = {
      edge: front?.url ?? worker.url,
      worker: worker.url,
      originCache: originCache?.url ?? origin.url,
      events: pipeline.url,
      cloudflareFake: `${pipeline.cloudflareFake.url}/_fake/purges`,
      cloudfrontFake: `${pipeline.cloudfrontFake.url}/_fake/purges`,
      sqsFake: `${pipeline.sqsFake?.url}/_fake/queues`,
      origin: origin.url,
      redisRest: bridge.url,
      redis: redisUrl ?? "emulator://in-process",
      ...(dashboard ? { dashboard: dashboard.url } : {}),
    };
    return {
      services: [
        { name: "redis", url: urls.redis },
        { name: "redis-rest", url: urls.redisRest },
        { name: "origin", url: urls.origin },
        ...(originCache ? [{ name: "origin-cache", url: urls.originCache }] : []),
        { name: "cloudflare-fake", url: urls.cloudflareFake },
        { name: "cloudfront-fake", url: urls.cloudfrontFake },
        { name: "sqs-fake", url: urls.sqsFake },
        { name: "events", url: urls.events },
        ...(front ? [{ name: "worker", url: urls.worker }] : []),
        ...(dashboard ? [{ name: "dashboard", url: dashboard.url }] : []),
        { name: "edge", url: urls.edge },
      ],
      urls,
      redisBackend,
      ...(redisServer ? { redisServer } : {}),
      httpCaches: httpCaches.kind,
      ...(httpCaches.kind === "none" ? { httpCachesNote: httpCaches.note } : {}),
      token,
      operatorToken,
      workersCachePurgeCalls: pipeline.workersCachePurgeCalls,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
