/**
 * npm run bench:events [-- --events 2000 --concurrency 16]
 *
 * Events through the event app (signed webhooks over HTTP) with a real redis-server
 * behind the bridge and the CDN fakes behind the real SDKs: events per second and
 * Redis round trips (HTTP requests to the REST API) per event, for single-event
 * deliveries and for batches of 100; then how many CloudFront invalidations and
 * Cloudflare purge calls a burst of 1,000 events produced. With `--cdn fakes` the
 * purge-retry queue (the SQS fake) and the local retry poller run too, as in
 * `npm start`: CloudFront purges are deferred there, so the invalidations are
 * counted once the queue has drained.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { startBridgeServer } from "../bridge/server";
import type { Gpu } from "../core/domain";
import { parseEventsConfig } from "../lambdas/events/config";
import { startEventsServer } from "../lambdas/events/server";
import { createPurgers, type PurgeEnv } from "../lambdas/purge/config";
import { createRetryHandler } from "../lambdas/retry/handler";
import { createRetryPoller } from "../lambdas/retry/local-poller";
import { retryQueueSettings } from "../lambdas/retry/retry-queue";
import { startCloudFrontFake, startCloudflareFake } from "../local/cdn-fakes";
import { startRedisServer } from "../local/redis-server";
import { startSqsFake } from "../local/sqs-fake";
import { DEFAULT_WEBHOOK_SECRET, RETRY_QUEUE, RETRY_QUEUES } from "../local/stack";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    /** `fakes`: purge through the real SDKs to the CDN fakes; `none`: purges only logged (Redis path alone). */
    cdn: { type: "string", default: "fakes" },
  },
});
const total = Number(values.events);
const concurrency = Number(values.concurrency);
if (
  ![total, concurrency].every((n) => Number.isInteger(n) && n > 0) ||
  !["fakes", "none"].includes(String(values.cdn))
) {
  console.error("bench:events: --events and --concurrency must be positive integers, --cdn fakes|none");
  process.exit(2);
}

const TOKEN = "bench";
const webhook = new Webhook(DEFAULT_WEBHOOK_SECRET);

function gpuEvent(index: number, version: number) {
  const gpu: Gpu = {
    gpuId: `bench-gpu-${index}`,
    providerId: `prov-${index % 50}`,
    gpuType: ["RTX-4090", "A100-80GB", "H100-SXM"][index % 3] ?? "RTX-4090",
    region: ["us-east", "us-west", "eu-west", "ap-southeast"][index % 4] ?? "us-east",
    status: version % 2 === 0 ? "busy" : "available",
    pricePerHour: 1 + (index % 10) / 10,
    performanceScore: 50,
    memoryGb: 24,
    version,
    updatedAt: new Date().toISOString(),
  };
  return {
    id: `evt-${randomUUID()}`,
    type: "gpu.status_changed",
    occurredAt: gpu.updatedAt,
    version,
    data: { gpu },
  };
}

async function post(url: string, body: unknown): Promise<void> {
  const payload = JSON.stringify(body);
  const id = `msg_${randomUUID()}`;
  const now = new Date();
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": webhook.sign(id, now, payload),
    },
    body: payload,
  });
  if (response.status !== 202)
    throw new Error(`event app answered ${response.status}: ${await response.text()}`);
  await response.text();
}

/** The bridge numbers every answer (upstash-sync-token): the difference counts REST requests. */
async function restRequests(bridgeUrl: string): Promise<number> {
  const response = await fetch(bridgeUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
    body: '["PING"]',
  });
  await response.text();
  return Number(response.headers.get("upstash-sync-token"));
}

async function run(label: string, bodies: unknown[], events: number, url: string, bridgeUrl: string) {
  let next = 0;
  const before = await restRequests(bridgeUrl);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, bodies.length) }, async () => {
      while (next < bodies.length) await post(url, bodies[next++]);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const requests = (await restRequests(bridgeUrl)) - before - 1;
  console.log(
    `| ${label} | ${events} | ${Math.round(events / seconds)} | ${(requests / events).toFixed(2)} |`,
  );
}

const redis = await startRedisServer();
const bridge = await startBridgeServer({ token: TOKEN, redisUrl: redis.url });
const cloudflare = await startCloudflareFake({ apiToken: "bench" });
const cloudfront = await startCloudFrontFake({});
const sqsFake = values.cdn === "none" ? undefined : await startSqsFake({ queues: RETRY_QUEUES });
const purgeEnv: PurgeEnv = sqsFake
  ? {
      CLOUDFLARE_API_TOKEN: "bench",
      CLOUDFLARE_ZONE_ID: "bench-zone",
      CLOUDFLARE_BASE_URL: `${cloudflare.url}/client/v4`,
      CLOUDFRONT_DISTRIBUTION_ID: "EBENCH",
      CLOUDFRONT_ENDPOINT: cloudfront.url,
      PURGE_RETRY_QUEUE_URL: sqsFake.queueUrl(RETRY_QUEUE),
      SQS_ENDPOINT: sqsFake.url,
    }
  : {};
const quiet = { info: () => {}, warn: () => {}, error: console.error };
const events = await startEventsServer(
  parseEventsConfig({
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: TOKEN,
    WEBHOOK_SECRETS: DEFAULT_WEBHOOK_SECRET,
  }),
  { logger: quiet, purgeEnv },
);
// The retry Lambda's stand-in, as in local/stack.ts.
const retryQueue = retryQueueSettings(purgeEnv);
const poller =
  retryQueue &&
  createRetryPoller({
    sqs: retryQueue.client,
    queueUrl: retryQueue.queueUrl,
    handler: createRetryHandler({
      purgers: createPurgers(purgeEnv, { logger: quiet }),
      sqs: retryQueue.client,
      queueUrl: retryQueue.queueUrl,
      logger: quiet,
    }),
    logger: quiet,
  });

/** Waits (at most 30 s) until the retry queue is empty; the seconds it took, or undefined on timeout. */
async function drained(): Promise<number | undefined> {
  if (!sqsFake) return 0;
  const started = performance.now();
  while (sqsFake.messages(RETRY_QUEUE).length > 0) {
    if (performance.now() - started > 30_000) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return (performance.now() - started) / 1000;
}

const createInvalidationCalls = () =>
  cloudfront.requests.filter((request) => request.method === "POST").length;

try {
  console.log(
    `# ${total} events, ${concurrency} deliveries in flight, purges: ${values.cdn}, redis-server ${redis.url}`,
  );
  console.log("| delivery | events | events/s | REST round trips per event |");
  console.log("|---|---|---|---|");
  await run(
    "one event per request",
    Array.from({ length: total }, (_, index) => gpuEvent(index, 1)),
    total,
    events.url,
    bridge.url,
  );
  const batches = Array.from({ length: Math.ceil(total / 100) }, (_, batch) => ({
    events: Array.from({ length: Math.min(100, total - batch * 100) }, (_, i) =>
      gpuEvent(batch * 100 + i, 2),
    ),
  }));
  await run("batches of 100", batches, total, events.url, bridge.url);
  // The burst's counts must not include the earlier runs' deferred purges.
  await drained();

  const cfBefore = cloudflare.requests.length;
  const invBefore = createInvalidationCalls();
  const acceptedBefore = cloudfront.purges.length;
  const sentBefore = sqsFake?.requests.filter((request) => request.action === "SendMessageBatch").length ?? 0;
  await run(
    "burst: 1,000 single events",
    Array.from({ length: 1000 }, (_, index) => gpuEvent(index, 3)),
    1000,
    events.url,
    bridge.url,
  );
  const seconds = await drained();
  const queued = sqsFake
    ? `; queue drained ${seconds === undefined ? "NOT within 30 s" : `${seconds.toFixed(1)} s after the burst`}, ${
        sqsFake.requests.filter((request) => request.action === "SendMessageBatch").length - sentBefore
      } SendMessageBatch calls, DLQ ${sqsFake.messages(RETRY_QUEUES[1].name).length}`
    : "";
  console.log(
    `\nburst of 1,000 events: Cloudflare purge calls ${cloudflare.requests.length - cfBefore}, CloudFront CreateInvalidation calls ${createInvalidationCalls() - invBefore} (accepted invalidations: ${cloudfront.purges.length - acceptedBefore})${queued}`,
  );
} finally {
  await poller?.stop();
  await events.close();
  await sqsFake?.close();
  await cloudfront.close();
  await cloudflare.close();
  await bridge.close();
  await redis.stop();
}
