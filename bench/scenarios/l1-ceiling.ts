/**
 * 1. L1 ceiling: our Worker answering from L1 against a bare Hono Worker returning the
 * same bytes in the same runtime, rounds alternated so machine noise falls on both.
 */
import type { MiniflareWorker } from "../../local/miniflare-worker";
import { runLoad } from "../lib/load";
import type { BenchProfile } from "../lib/profile";
import type { BenchResults, LoadSummary } from "../lib/results";
import type { BenchServices } from "../lib/services";

export const L1_CEILING_PATH = "/v1/gpus?region=us-east&type=RTX-4090&limit=20";

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
  };
}

export async function runL1Ceiling(
  services: BenchServices,
  ours: MiniflareWorker,
  profile: BenchProfile,
): Promise<Pick<BenchResults, "l1HitVsBareThroughputRatio" | "l1Ceiling">> {
  const body = await (await fetch(`${ours.url}${L1_CEILING_PATH}`)).text();
  const bare = await services.startPeerWorker("bare", { BODY: body });
  try {
    const bareBody = await (await fetch(`${bare.url}${L1_CEILING_PATH}`)).text();
    if (bareBody !== body) throw new Error("the bare Worker does not return our body");
    const hit = await fetch(`${ours.url}${L1_CEILING_PATH}`);
    await hit.arrayBuffer();
    if (hit.headers.get("x-cache") !== "L1")
      throw new Error(`expected an L1 hit, got ${hit.headers.get("x-cache")}`);

    const load = (url: string) =>
      runLoad({
        url,
        plan: { kind: "paths", paths: [L1_CEILING_PATH] },
        connections: profile.connections,
        seconds: profile.seconds,
      });
    const bareRounds: LoadSummary[] = [];
    const ourRounds: LoadSummary[] = [];
    for (let round = 0; round < profile.rounds; round++) {
      bareRounds.push(await load(bare.url));
      ourRounds.push(await load(ours.url));
    }
    const bareTotal = combine(bareRounds);
    const ourTotal = combine(ourRounds);
    return {
      l1HitVsBareThroughputRatio: bareTotal.rps > 0 ? ourTotal.rps / bareTotal.rps : 0,
      l1Ceiling: {
        path: L1_CEILING_PATH,
        bodyBytes: new TextEncoder().encode(body).byteLength,
        rounds: profile.rounds,
        bare: bareTotal,
        ours: ourTotal,
      },
    };
  } finally {
    await bare.stop();
  }
}
