/**
 * 1. L1 ceiling: our Worker answering from L1 against a bare Hono Worker returning the
 * same bytes in the same runtime, rounds alternated so machine noise falls on both.
 */
import type { MiniflareWorker } from "../../dev/local/miniflare-worker";
import { measuredLoad } from "../lib/load";
import type { BenchProfile } from "../lib/profile";
import type { BenchResults, LoadSummary } from "../lib/results";
import type { BenchServices } from "../lib/services";

export const L1_CEILING_PATH = "/v1/gpus?region=us-east&type=RTX-4090&limit=20";
const FRAMING_HEADERS = new Set([
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "date",
  "connection",
]);

/** Sums requests and time over rounds; latency percentiles are averaged (each round's histogram is gone). */
function combine(rounds: readonly LoadSummary[]): LoadSummary {
  const mean = (pick: (run: LoadSummary) => number) =>
    rounds.reduce((total, run) => total + pick(run), 0) / rounds.length;
  return {
    requests: rounds.reduce((total, run) => total + run.requests, 0),
    rps: mean((run) => run.rps),
    p50Ms: mean((run) => run.p50Ms),
    p99Ms: mean((run) => run.p99Ms),
    non2xx: rounds.reduce((total, run) => total + run.non2xx, 0),
    errors: rounds.reduce((total, run) => total + run.errors, 0),
    ...(rounds.every((run) => run.workerCpuMsPer1k !== undefined)
      ? { workerCpuMsPer1k: mean((run) => run.workerCpuMsPer1k ?? 0) }
      : {}),
  };
}

export async function runL1Ceiling(
  services: BenchServices,
  ours: MiniflareWorker,
  profile: BenchProfile,
): Promise<
  Pick<BenchResults, "l1HitVsBareThroughputRatio" | "l1HitVsBareSameHeadersThroughputRatio" | "l1Ceiling">
> {
  const body = await (await fetch(`${ours.url}${L1_CEILING_PATH}`)).text();
  const hit = await fetch(`${ours.url}${L1_CEILING_PATH}`);
  await hit.arrayBuffer();
  if (hit.headers.get("x-cache") !== "L1")
    throw new Error(`expected an L1 hit, got ${hit.headers.get("x-cache")}`);
  // What our L1 hit sends beside the body; framing and compression headers are the runtime's own.
  const sent = Object.fromEntries(
    [...hit.headers].filter(([name]) => !FRAMING_HEADERS.has(name) && name !== "content-type"),
  );
  const bare = await services.startPeerWorker("bare", { BODY: body });
  const bareSameHeaders = await services.startPeerWorker("bare", {
    BODY: body,
    HEADERS: JSON.stringify(sent),
  });
  try {
    const bareBody = await (await fetch(`${bare.url}${L1_CEILING_PATH}`)).text();
    if (bareBody !== body) throw new Error("the bare Worker does not return our body");
    const hit = await fetch(`${ours.url}${L1_CEILING_PATH}`);
    await hit.arrayBuffer();
    if (hit.headers.get("x-cache") !== "L1")
      throw new Error(`expected an L1 hit, got ${hit.headers.get("x-cache")}`);

    const load = (worker: MiniflareWorker) =>
      measuredLoad(worker, {
        url: worker.url,
        plan: { kind: "paths", paths: [L1_CEILING_PATH] },
        connections: profile.connections,
        seconds: profile.seconds,
      });
    const bareRounds: LoadSummary[] = [];
    const sameHeaderRounds: LoadSummary[] = [];
    const ourRounds: LoadSummary[] = [];
    for (let round = 0; round < profile.rounds; round++) {
      bareRounds.push(await load(bare));
      sameHeaderRounds.push(await load(bareSameHeaders));
      ourRounds.push(await load(ours));
    }
    const bareTotal = combine(bareRounds);
    const sameHeadersTotal = combine(sameHeaderRounds);
    const ourTotal = combine(ourRounds);
    return {
      l1HitVsBareThroughputRatio: bareTotal.rps > 0 ? ourTotal.rps / bareTotal.rps : 0,
      l1HitVsBareSameHeadersThroughputRatio:
        sameHeadersTotal.rps > 0 ? ourTotal.rps / sameHeadersTotal.rps : 0,
      l1Ceiling: {
        path: L1_CEILING_PATH,
        bodyBytes: new TextEncoder().encode(body).byteLength,
        rounds: profile.rounds,
        bare: bareTotal,
        bareSameHeaders: sameHeadersTotal,
        ours: ourTotal,
      },
    };
  } finally {
    await bareSameHeaders.stop();
    await bare.stop();
  }
}
