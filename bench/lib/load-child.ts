/**
 * The load generator process: receives LoadOptions over IPC, runs autocannon, answers
 * with a LoadSummary and exits. Requests are built here (Zipf draws, signed webhooks),
 * so building them costs the generator's CPU, not the orchestrator's.
 */
import autocannon from "autocannon";
import { marketplaceEvent, signedDelivery } from "../../dev/local/marketplace-events";
import { percentiles } from "../scenarios/propagation";
import { bodySizeBucket } from "./body-size";
import type { LoadOptions, LoadPlan, ProbeOptions } from "./load";
import type { LatencyProbe, LoadSummary } from "./results";
import { zipfSampler } from "./zipf";

type Request = autocannon.Request;

function requestsFor(plan: LoadPlan): Request[] {
  switch (plan.kind) {
    case "paths": {
      let next = 0;
      return [
        {
          method: "GET",
          setupRequest: (request: Request) => ({ ...request, path: plan.paths[next++ % plan.paths.length] }),
        },
      ];
    }
    case "zipf": {
      const draw = zipfSampler(plan.paths.length, plan.s, plan.seed);
      return [
        { method: "GET", setupRequest: (request: Request) => ({ ...request, path: plan.paths[draw()] }) },
      ];
    }
    case "events": {
      let next = 0;
      const types = ["RTX-4090", "A100-80GB", "H100-SXM"];
      const regions = ["us-east", "us-west", "eu-west", "ap-southeast"];
      const gpuEvent = () => {
        const index = next++;
        const updatedAt = new Date().toISOString();
        return marketplaceEvent("gpu.status_changed", plan.version, {
          gpu: {
            gpuId: `${plan.idPrefix}-${index}`,
            providerId: `prov-${index % 50}`,
            gpuType: types[index % types.length],
            region: regions[index % regions.length],
            status: plan.version % 2 === 0 ? "busy" : "available",
            pricePerHour: 1 + (index % 10) / 10,
            performanceScore: 50,
            memoryGb: 24,
            version: plan.version,
            updatedAt,
          },
        });
      };
      return [
        {
          method: "POST",
          setupRequest: (request: Request) => {
            const { headers, body } = signedDelivery(
              plan.secret,
              Array.from({ length: plan.batchSize }, gpuEvent),
            );
            return { ...request, headers: { ...request.headers, ...headers }, body };
          },
        },
      ];
    }
  }
}

type BodyTally = NonNullable<LoadSummary["xCacheBodies"]>;

/** Adds an X-Cache tally, with the body sizes per value, to every request of the plan. */
function tallied(requests: Request[], tally: Record<string, number>, bodies: BodyTally): Request[] {
  const onResponse = (_status: number, body: string, _context: object, headers: Record<string, unknown>) => {
    let value = "none";
    for (const [name, header] of Object.entries(headers ?? {})) {
      if (name.toLowerCase() === "x-cache") value = String(header);
    }
    tally[value] = (tally[value] ?? 0) + 1;
    const bytes = Buffer.byteLength(body ?? "", "utf8");
    const buckets = bodies[value] ?? {};
    const bucket = bodySizeBucket(bytes);
    const counted = buckets[bucket] ?? { responses: 0, bytes: 0 };
    buckets[bucket] = { responses: counted.responses + 1, bytes: counted.bytes + bytes };
    bodies[value] = buckets;
  };
  return requests.map((request) => ({ ...request, onResponse }) as Request);
}

async function run(options: LoadOptions): Promise<LoadSummary> {
  const tally: Record<string, number> = {};
  const bodies: BodyTally = {};
  const requests = requestsFor(options.plan);
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
    ...(options.headers ? { headers: { ...options.headers } } : {}),
    requests: options.tallyXCache ? tallied(requests, tally, bodies) : requests,
  });
  const total = result.requests.total;
  return {
    requests: total,
    rps: result.duration > 0 ? total / result.duration : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...(result.non2xx > 0
      ? {
          statusCodes: Object.fromEntries(
            Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats.count ?? 0]),
          ),
        }
      : {}),
    ...(options.tallyXCache ? { xCache: tally, xCacheBodies: bodies } : {}),
  };
}

async function probe(options: ProbeOptions): Promise<LatencyProbe> {
  const samples: number[] = [];
  let errors = 0;
  const until = performance.now() + options.seconds * 1000;
  for (let next = 0; performance.now() < until; next++) {
    const started = performance.now();
    try {
      const response = await fetch(`${options.url}${options.paths[next % options.paths.length]}`);
      await response.arrayBuffer();
      if (!response.ok) errors += 1;
      else samples.push(performance.now() - started);
    } catch {
      errors += 1;
    }
  }
  return { ...percentiles(samples), errors };
}

process.once("message", (options: LoadOptions | ProbeOptions) => {
  ("kind" in options && options.kind === "probe" ? probe(options) : run(options as LoadOptions)).then(
    (summary) => process.send?.({ ok: true, summary }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ ok: false, error: (error as Error).stack ?? String(error) }, () => process.exit(1)),
  );
});
