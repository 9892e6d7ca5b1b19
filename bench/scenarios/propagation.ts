/**
 * 4. Propagation: events one GPU each, timed from the webhook request to (a) the write
 * in Redis (the PUBLISH the apply script sends after its writes, same script, so the
 * value is readable when it arrives), (b) the first edge response showing the new
 * version, (c) the purge request arriving at each CDN fake. Every GPU is in the edge's
 * L1 before its event, so the edge figure is the worst case: a copy to evict.
 */

import { createKeyspace } from "../../core/keys";
import { EDGE_PATHS } from "../../core/purge-paths";
import { tags } from "../../core/tags";
import { deliverEvents, originAdmin } from "../../dev/local/marketplace-events";
import type { MiniflareWorker } from "../../dev/local/miniflare-worker";
import { mulberry32 } from "../../dev/origin/generate";
import type { BenchProfile } from "../lib/profile";
import type { BenchResults, Percentiles } from "../lib/results";
import { type BenchServices, L1_SYNC_INTERVAL_MS, WEBHOOK_SECRET } from "../lib/services";

const EDGE_POLL_MS = 10;
const SEED = 4_004;
/** A stage not seen within this is recorded as missing, and the run fails. */
const STAGE_TIMEOUT_MS = 30_000;

export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  // Nearest rank: the p-th percentile is a sample, never an interpolation between two.
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1] ?? 0 };
}

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > STAGE_TIMEOUT_MS)
      throw new Error(`propagation: no ${what} within ${STAGE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function edgeShows(worker: MiniflareWorker, gpuId: string, version: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const response = await fetch(`${worker.url}/v1/gpus/${gpuId}`);
    const body = (await response.json()) as { version?: number };
    if ((body.version ?? 0) >= version) return Date.now();
    if (Date.now() - started > STAGE_TIMEOUT_MS)
      throw new Error(`propagation: the edge never showed ${gpuId} v${version}`);
    await new Promise((resolve) => setTimeout(resolve, EDGE_POLL_MS));
  }
}

export async function runPropagation(
  services: BenchServices,
  worker: MiniflareWorker,
  profile: BenchProfile,
  cloudfrontMode: "queued" | "inline",
): Promise<Pick<BenchResults, "propagationMs" | "propagation">> {
  const keys = createKeyspace();
  const admin = originAdmin(services.origin.url);
  // Available GPUs carry no booking, so each can go to maintenance and announce it.
  const gpus = services.origin.store.listGpus({ status: "available" }).slice(-profile.propagationEvents);
  if (gpus.length < profile.propagationEvents) throw new Error("propagation: not enough GPUs at the origin");
  for (const gpu of gpus) await (await fetch(`${worker.url}/v1/gpus/${gpu.gpuId}`)).arrayBuffer();

  // Redis: the apply script publishes {id, event, tags} on the events channel after its writes.
  const published = new Map<string, number>();
  const subscriber = services.redis.duplicate();
  await subscriber.subscribe(keys.eventsChannel);
  subscriber.on("message", (_channel: string, message: string) => {
    const { event } = JSON.parse(message) as { event?: string };
    if (event) published.set(event, Date.now());
  });

  const samples = {
    redis: [] as number[],
    edge: [] as number[],
    cloudflare: [] as number[],
    cloudfront: [] as number[],
  };
  const { cloudflareFake, cloudfrontFake } = services.pipeline;
  const cloudflareSeen = cloudflareFake.purges.length;
  const cloudfrontSeen = cloudfrontFake.purges.length;

  // Each event waits a random part of the sync interval first: events sent in lockstep with the
  // Worker's log reads would all see the same phase and report one edge delay, not its spread.
  const random = mulberry32(SEED);
  const cloudfrontWaits: Promise<void>[] = [];
  const one = async (gpu: (typeof gpus)[number]) => {
    await new Promise((resolve) => setTimeout(resolve, random() * L1_SYNC_INTERVAL_MS));
    const events = await admin.setGpuStatus(gpu.gpuId, "maintenance");
    const [change] = events;
    if (!change) throw new Error("propagation: the origin change produced no event");
    const sentAt = Date.now();
    const edge = edgeShows(worker, gpu.gpuId, change.version);
    const answer = await deliverEvents(services.pipeline.url, WEBHOOK_SECRET, events);
    if (answer.status !== 202) throw new Error(`event app answered ${answer.status}: ${answer.body}`);
    const tag = tags.gpu(gpu.gpuId);
    const path = EDGE_PATHS.gpu(gpu.gpuId);
    // Merged invalidations may name a wildcard that covers the record's own path instead.
    const covers = (pattern: string) =>
      pattern === path || (pattern.endsWith("*") && path.startsWith(pattern.slice(0, -1)));
    // CloudFront purges may be queued for seconds: waited for apart, so the next event is not held back.
    cloudfrontWaits.push(
      waitFor(
        () =>
          cloudfrontFake.purges
            .slice(cloudfrontSeen)
            .find((purge) => Date.parse(purge.time) >= sentAt - 1 && purge.paths.some(covers))?.time,
        `CloudFront invalidation of ${path}`,
      ).then((time) => {
        samples.cloudfront.push(Date.parse(time) - sentAt);
      }),
    );
    const [redisAt, edgeAt, cloudflareAt] = await Promise.all([
      waitFor(() => published.get(change.id), `PUBLISH for ${change.id}`),
      edge,
      waitFor(
        () =>
          cloudflareFake.purges
            .slice(cloudflareSeen)
            .find((purge) => Date.parse(purge.time) >= sentAt - 1 && purge.items.includes(tag))?.time,
        `Cloudflare purge of ${tag}`,
      ),
    ]);
    samples.redis.push(redisAt - sentAt);
    samples.edge.push(edgeAt - sentAt);
    samples.cloudflare.push(Date.parse(cloudflareAt) - sentAt);
  };

  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: profile.propagationInFlight }, async () => {
        while (next < gpus.length) await one(gpus[next++] as (typeof gpus)[number]);
      }),
    );
    await Promise.all(cloudfrontWaits);
  } finally {
    await subscriber.quit();
  }
  return {
    propagationMs: {
      redis: percentiles(samples.redis),
      edge: percentiles(samples.edge),
      cloudflarePurge: percentiles(samples.cloudflare),
      cloudfrontPurge: percentiles(samples.cloudfront),
    },
    propagation: { events: gpus.length, inFlight: profile.propagationInFlight, cloudfrontMode },
  };
}
