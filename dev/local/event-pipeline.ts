/**
 * The event side of the local system: the CDN purge fakes, the SQS fake with the
 * purge-retry queue and its DLQ, the event app purging through the real SDKs against
 * them, and a poller running the retry handler as the SQS event source would.
 * `npm start` (dev/local/stack.ts) and the benchmarks start the same thing.
 */
import { systemClock } from "../../core/time/clock";
import { parseEventsConfig } from "../../lambdas/events/config";
import { parseRetryLambdaConfig } from "../../lambdas/retry/config";
import { createRetryHandler, retryPurgers } from "../../lambdas/retry/handler";
import { createSqsClient } from "../../lambdas/retry/retry-queue";
import { type CloudFrontFake, type CloudflareFake, startCloudFrontFake, startCloudflareFake } from "../fakes";
import { type SqsFake, type SqsFakeQueueOptions, startSqsFake } from "../fakes/sqs";
import { createEventCounts, type EventCounts } from "./dashboard/event-counts";
import { startEventsServer } from "./events-server";
import { createRetryPoller } from "./retry-poller";

const LOCAL_CLOUDFLARE_TOKEN = "local-cloudflare-token";
const LOCAL_CLOUDFLARE_ZONE = "local-zone";
const LOCAL_CLOUDFRONT_DISTRIBUTION = "ELOCALDISTRIBUTION";
export const RETRY_QUEUE = "purge-retry";
export const RETRY_DLQ = "purge-retry-dlq";
/** As the deployed queue's redrive policy: the sixth receive moves a purge to the DLQ. */
const RETRY_MAX_RECEIVE_COUNT = 5;
/** The purge-retry queue and its DLQ. */
export const RETRY_QUEUES = [
  {
    name: RETRY_QUEUE,
    redrivePolicy: { deadLetterQueue: RETRY_DLQ, maxReceiveCount: RETRY_MAX_RECEIVE_COUNT },
  },
  { name: RETRY_DLQ },
] as const satisfies readonly SqsFakeQueueOptions[];

type Logger = Pick<Console, "info" | "warn" | "error">;

export interface EventPipelineOptions {
  /** The REST API the event app writes through (a bridge URL) and its token. */
  readonly redisRestUrl: string;
  readonly token: string;
  readonly webhookSecret: string;
  /** 0 or unset: a free port. */
  readonly port?: number;
  /**
   * `queued` (as deployed, the default): CloudFront paths go through the retry queue and are
   * merged per batch. `inline`: no queue, so CloudFront purges leave from the request path.
   */
  readonly cloudfront?: "queued" | "inline";
  /** The Worker's CACHE_POLICIES, so the event app's write-through TTLs match the Worker's fills. */
  readonly cachePolicies?: string;
  /**
   * The Varnish in CloudFront's role (dev/varnish/back.vcl): the CloudFront fake bans each
   * invalidation's paths there `completionDelayMs` after accepting it, when it reports it Completed.
   */
  readonly cloudfrontBans?: { readonly url: string; readonly completionDelayMs: number };
  /**
   * The Worker's signed purge endpoint (`<worker>/_cache/purge`) and the secret it checks
   * (its PURGE_WEBHOOK_SECRETS, `whsec_…`). Set, both Lambdas purge Workers Cache through it
   * within the shared purge bucket in this Redis (lambdas/purge/workers-cache/); unset (the
   * default), Workers Cache purges are only logged.
   */
  readonly workersCachePurge?: { readonly url: string; readonly secret: string };
  readonly logger?: Logger;
}

export interface EventPipeline {
  /** The webhook URL of the event app. */
  readonly url: string;
  readonly cloudflareFake: CloudflareFake;
  readonly cloudfrontFake: CloudFrontFake;
  /** Absent with `cloudfront: "inline"`. */
  readonly sqsFake: SqsFake | undefined;
  /**
   * Calls sent to the Worker's purge endpoint so far by the retry queue's consumer, which is
   * where queued Workers Cache purges leave from (none are counted with `cloudfront: "inline"`).
   */
  workersCachePurgeCalls(): number;
  /** Of those, the calls the Worker answered with a 2xx. */
  workersCachePurgesAccepted(): number;
  /** What the event app answered: events per type and status, and their propagation. */
  readonly eventCounts: EventCounts;
  stop(): Promise<void>;
}

export async function startEventPipeline(options: EventPipelineOptions): Promise<EventPipeline> {
  const logger = options.logger ?? { info: () => {}, warn: console.warn, error: console.error };
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    // Local stand-ins for the CDN purge APIs: the event app purges through the real SDKs against them.
    const cloudflareFake = await startCloudflareFake({ apiToken: LOCAL_CLOUDFLARE_TOKEN });
    stops.push(() => cloudflareFake.close());
    const cloudfrontFake = await startCloudFrontFake(
      options.cloudfrontBans ? { varnishBans: { ...options.cloudfrontBans, logger } } : {},
    );
    stops.push(() => cloudfrontFake.close());
    const sqsFake =
      options.cloudfront === "inline" ? undefined : await startSqsFake({ queues: RETRY_QUEUES });
    if (sqsFake) stops.push(() => sqsFake.close());
    // The environment both Lambdas share when deployed: the CDN settings and the retry queue's.
    const purgeEnv = {
      CLOUDFLARE_API_TOKEN: LOCAL_CLOUDFLARE_TOKEN,
      CLOUDFLARE_ZONE_ID: LOCAL_CLOUDFLARE_ZONE,
      CLOUDFLARE_BASE_URL: `${cloudflareFake.url}/client/v4`,
      CLOUDFRONT_DISTRIBUTION_ID: LOCAL_CLOUDFRONT_DISTRIBUTION,
      CLOUDFRONT_ENDPOINT: cloudfrontFake.url,
      ...(sqsFake ? { PURGE_RETRY_QUEUE_URL: sqsFake.queueUrl(RETRY_QUEUE), SQS_ENDPOINT: sqsFake.url } : {}),
      ...(options.workersCachePurge
        ? {
            WORKERS_CACHE_PURGE_URL: options.workersCachePurge.url,
            WORKERS_CACHE_PURGE_SECRET: options.workersCachePurge.secret,
          }
        : {}),
    };
    // Both Lambdas reach the same Redis: the event app writes through it, and both spend
    // Workers Cache purge calls from the bucket it holds.
    const redisEnv = {
      UPSTASH_REDIS_REST_URL: options.redisRestUrl,
      UPSTASH_REDIS_REST_TOKEN: options.token,
    };

    const eventCounts = createEventCounts(systemClock);
    // Each Lambda's whole configuration, parsed as its cold start parses it.
    const events = await startEventsServer(
      parseEventsConfig({
        ...redisEnv,
        WEBHOOK_SECRETS: options.webhookSecret,
        CACHE_POLICIES: options.cachePolicies,
        ...purgeEnv,
      }),
      { port: options.port ?? 0, logger, counts: eventCounts },
    );
    stops.push(() => events.close());

    let workersCachePurgeCalls = 0;
    let workersCachePurgesAccepted = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      workersCachePurgeCalls += 1;
      const response = await fetch(input, init);
      if (response.ok) workersCachePurgesAccepted += 1;
      return response;
    };
    // The retry Lambda's stand-in: the same handler, fed by a poller as the SQS event source would.
    if (sqsFake) {
      const retry = parseRetryLambdaConfig({ ...purgeEnv, ...redisEnv });
      const sqs = createSqsClient(retry.retryQueue);
      const poller = createRetryPoller({
        sqs,
        queueUrl: retry.retryQueue.queueUrl,
        handler: createRetryHandler({
          purgers: retryPurgers(retry, { logger, workersCache: { fetch: countingFetch } }),
          sqs,
          queueUrl: retry.retryQueue.queueUrl,
          logger,
        }),
        logger,
      });
      stops.push(() => poller.stop());
    }
    return {
      url: events.url,
      cloudflareFake,
      cloudfrontFake,
      sqsFake,
      workersCachePurgeCalls: () => workersCachePurgeCalls,
      workersCachePurgesAccepted: () => workersCachePurgesAccepted,
      eventCounts,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
