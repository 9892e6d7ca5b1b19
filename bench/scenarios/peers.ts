/**
 * 2. Peers at the edge, same load and same data: the tutorial Worker that does one
 * @upstash/redis GET per request, Hono's `hono/cache` on the Cache API, and ours.
 * Throughput and Redis cost under load on a hot key set, latency one request at a time,
 * then how long each keeps serving the old body after one update at the origin and its
 * webhook. Run twice: with Redis on loopback, and with every Redis request a round trip
 * away (services.distantWorkerBridge), as Upstash is from the edge; the second run has no
 * staleness probe (the freshness path does not depend on the distance).
 */
import { deliverEvents, originAdmin } from "../../dev/local/marketplace-events";
import type { MiniflareWorker } from "../../dev/local/miniflare-worker";
import type { BridgeProcess } from "../lib/bridge-process";
import { measuredLoad, runLatencyProbe } from "../lib/load";
import type { BenchProfile } from "../lib/profile";
import type { BenchResults, DistanceComparison, LatencyProbe, PeerLoad, PeerResult } from "../lib/results";
import { type BenchServices, WEBHOOK_SECRET } from "../lib/services";

/** An availability listing: the volatile class, where staleness matters most. */
export const STALENESS_PATH = "/v1/gpus?region=us-east&type=RTX-4090&limit=20";
const POLL_MS = 20;

function hotPaths(services: BenchServices): string[] {
  const gpus = services.origin.store.listGpus().slice(0, 50);
  return [
    ...gpus.map((gpu) => `/v1/gpus/${gpu.gpuId}`),
    // Not STALENESS_PATH: the probe must find it freshly cached, or a peer's TTL would already be running.
    "/v1/gpus?region=us-west&type=RTX-4090&limit=20",
    "/v1/gpus?region=eu-west&limit=20",
    "/v1/pricing?type=H100-SXM&region=us-west",
    "/v1/market/stats?region=us-east",
    "/v1/regions",
  ];
}

async function get(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
}

/** `s-maxage` of the origin's answer: the lifetime both peers give the probed path. */
async function originTtlSeconds(originUrl: string): Promise<number> {
  const response = await fetch(`${originUrl}${STALENESS_PATH}`);
  await response.arrayBuffer();
  const match = /s-maxage=(\d+)/.exec(response.headers.get("cache-control") ?? "");
  return Number(match?.[1] ?? 0);
}

/** Polls until the Worker's body differs from `old`; the time from `since`, or the cap. */
async function staleFor(
  workerUrl: string,
  old: string,
  since: number,
  capMs: number,
): Promise<{ ms: number; capped: boolean }> {
  for (;;) {
    const body = await get(`${workerUrl}${STALENESS_PATH}`);
    const elapsed = performance.now() - since;
    if (body !== old) return { ms: elapsed, capped: false };
    if (elapsed >= capMs) return { ms: elapsed, capped: true };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** 0 where the naive figure is 0: a ratio with nothing to compare against (the targets check the counts). */
function ratioOf(ours: number, naive: number): number {
  return naive > 0 ? ours / naive : 0;
}

type PeerName = "naive" | "honoCache" | "ours";
type PeerWorkers = Readonly<Record<PeerName, MiniflareWorker>>;

interface PeerMeasurements {
  readonly loads: Record<PeerName, PeerLoad>;
  readonly probes: { readonly naive: LatencyProbe; readonly ours: LatencyProbe };
}

/** Each Worker under the same load on the hot set, then naive and ours one request at a time. */
async function measurePeers(
  services: BenchServices,
  workers: PeerWorkers,
  bridge: BridgeProcess,
  profile: BenchProfile,
): Promise<PeerMeasurements> {
  const paths = hotPaths(services);
  const loads = {} as Record<PeerName, PeerLoad>;
  for (const [name, worker] of Object.entries(workers) as Array<[PeerName, MiniflareWorker]>) {
    // All at once: a round trip away, one after the other would take seconds for nothing measured.
    await Promise.all(paths.map((path) => get(`${worker.url}${path}`)));
    // Background fills of the warm-up land before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = (await bridge.usage()).commands;
    const load = await measuredLoad(worker, {
      url: worker.url,
      plan: { kind: "paths", paths },
      connections: profile.connections,
      seconds: profile.seconds,
    });
    const commands = (await bridge.usage()).commands - before;
    loads[name] = {
      rps: load.rps,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      redisCommandsPer1k: load.requests > 0 ? (commands / load.requests) * 1000 : 0,
      load,
    };
  }
  const probe = (worker: MiniflareWorker) =>
    runLatencyProbe({ url: worker.url, paths, seconds: profile.latencyProbeSeconds });
  // One after the other, so neither probe shares the machine with the other's Worker at work.
  const naive = await probe(workers.naive);
  const ours = await probe(workers.ours);
  return { loads, probes: { naive, ours } };
}

function compare(measured: PeerMeasurements, redisDelayMs: number): DistanceComparison {
  const { loads, probes } = measured;
  return {
    redisDelayMs,
    throughputVsNaive: ratioOf(loads.ours.rps, loads.naive.rps),
    underLoad: {
      p50VsNaive: ratioOf(loads.ours.p50Ms, loads.naive.p50Ms),
      p99VsNaive: ratioOf(loads.ours.p99Ms, loads.naive.p99Ms),
    },
    oneAtATime: {
      p50VsNaive: ratioOf(probes.ours.p50, probes.naive.p50),
      p99VsNaive: ratioOf(probes.ours.p99, probes.naive.p99),
      naive: probes.naive,
      ours: probes.ours,
    },
  };
}

/** The peers with every Redis request a round trip away: load and latency only. */
export async function runPeersAtRedisDelay(
  services: BenchServices,
  profile: BenchProfile,
): Promise<{ peersAtRedisDelay: BenchResults["peersAtRedisDelay"]; distant: DistanceComparison }> {
  const bridge = services.distantWorkerBridge;
  const started: MiniflareWorker[] = [];
  const start = async (worker: Promise<MiniflareWorker>) => {
    const running = await worker;
    started.push(running);
    return running;
  };
  try {
    const workers = {
      naive: await start(services.startPeerWorker("naive", {}, { bridge })),
      honoCache: await start(services.startPeerWorker("hono-cache", {}, { bridge })),
      ours: await start(services.startOurWorker({ bridge })),
    };
    const measured = await measurePeers(services, workers, bridge, profile);
    return { peersAtRedisDelay: measured.loads, distant: compare(measured, bridge.delayMs) };
  } finally {
    for (const worker of started.reverse()) await worker.stop();
  }
}

export async function runPeers(
  services: BenchServices,
  ours: MiniflareWorker,
  profile: BenchProfile,
): Promise<Pick<BenchResults, "peers" | "peerComparison"> & { loopback: DistanceComparison }> {
  const naive = await services.startPeerWorker("naive");
  const honoCache = await services.startPeerWorker("hono-cache");
  try {
    const workers = { naive, honoCache, ours } as const;
    const measured = await measurePeers(services, workers, services.workerBridge, profile);

    // Staleness: every peer holds the listing, then one GPU in it changes.
    const ttlSeconds = await originTtlSeconds(services.origin.url);
    const capMs = Math.max(3_000, ttlSeconds * 2_000 + 1_000);
    const old = await get(`${services.origin.url}${STALENESS_PATH}`);
    for (const worker of Object.values(workers)) {
      // Twice: the first may be the fill; the second shows what each will keep serving.
      await get(`${worker.url}${STALENESS_PATH}`);
      const held = await get(`${worker.url}${STALENESS_PATH}`);
      if (held !== old) throw new Error(`a peer (${worker.url}) does not serve the origin's body`);
    }
    const listed = JSON.parse(old) as { items?: Array<{ gpuId: string; status: string }> };
    // A booked GPU's status cannot change on its own; an available one can go to maintenance.
    const target = listed.items?.find((gpu) => gpu.status === "available");
    if (!target) throw new Error(`${STALENESS_PATH} lists no available GPU`);
    const events = await originAdmin(services.origin.url).setGpuStatus(target.gpuId, "maintenance");
    const since = performance.now();
    const delivered = await deliverEvents(services.pipeline.url, WEBHOOK_SECRET, events);
    if (delivered.status !== 202)
      throw new Error(`event app answered ${delivered.status}: ${delivered.body}`);
    const [naiveStale, honoStale, ourStale] = await Promise.all([
      staleFor(naive.url, old, since, capMs),
      staleFor(honoCache.url, old, since, capMs),
      staleFor(ours.url, old, since, capMs),
    ]);

    const peer = (name: PeerName, stale: { ms: number; capped: boolean }): PeerResult => ({
      ...measured.loads[name],
      stalenessMs: stale.ms,
      stalenessCapped: stale.capped,
    });
    const results = {
      naive: peer("naive", naiveStale),
      honoCache: peer("honoCache", honoStale),
      ours: peer("ours", ourStale),
    };
    return {
      peers: results,
      peerComparison: {
        throughputVsNaive: results.naive.rps > 0 ? results.ours.rps / results.naive.rps : 0,
        redisCommandsVsNaive:
          results.naive.redisCommandsPer1k > 0
            ? results.ours.redisCommandsPer1k / results.naive.redisCommandsPer1k
            : 0,
        ...(results.ours.load.workerCpuMsPer1k !== undefined && results.naive.load.workerCpuMsPer1k
          ? { workerCpuVsNaive: results.ours.load.workerCpuMsPer1k / results.naive.load.workerCpuMsPer1k }
          : {}),
        stalenessPath: STALENESS_PATH,
        peerTtlSeconds: ttlSeconds,
      },
      loopback: compare(measured, services.workerBridge.delayMs),
    };
  } finally {
    await honoCache.stop();
    await naive.stop();
  }
}
