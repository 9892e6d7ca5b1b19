/**
 * npm run warm: warms the listing views (core/views/warm-listing-views.ts) from the origin, as
 * the Worker does on first use, and prints what it did. For an operator after a Redis loss, or
 * before opening traffic, so no listing waits for the first-use warm.
 *
 * Where: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN and ORIGIN_URL (and KEY_PREFIX, CACHE_POLICIES) when
 * set, all three or none; else the running local stack's `.local-stack.json` (npm start).
 */
import { Redis } from "@upstash/redis";
import { applyPolicyOverrides } from "../core/data-classes";
import { createKeyspace, DEFAULT_KEY_PREFIX } from "../core/keys";
import { systemClock } from "../core/time/clock";
import { warmListingViews } from "../core/views/warm-listing-views";
import { DEFAULT_LOCAL_TOKEN } from "../dev/local/stack";
import { readStackState, stackStatePath } from "../dev/local/stack-state";

const REMOTE = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "ORIGIN_URL"] as const;

function targets(): { redisUrl: string; token: string; originUrl: string; where: string } {
  const set = REMOTE.filter((name) => process.env[name]);
  if (set.length === REMOTE.length)
    return {
      redisUrl: process.env.UPSTASH_REDIS_REST_URL as string,
      token: process.env.UPSTASH_REDIS_REST_TOKEN as string,
      originUrl: (process.env.ORIGIN_URL as string).replace(/\/+$/, ""),
      where: "the environment",
    };
  if (set.length > 0)
    throw new Error(
      `set all of ${REMOTE.join(", ")} or none (missing: ${REMOTE.filter((n) => !set.includes(n)).join(", ")})`,
    );
  const path = stackStatePath();
  const state = readStackState(path);
  if (!state)
    throw new Error(
      `no running local stack (${path} is missing or stale): run npm start, or set ${REMOTE.join(", ")}`,
    );
  return {
    redisUrl: state.urls.redisRest,
    token: DEFAULT_LOCAL_TOKEN,
    originUrl: state.urls.origin,
    where: path,
  };
}

/** The Worker's CACHE_POLICIES, when set, so the warm writes records with the TTLs the Worker uses. */
function policies() {
  const text = process.env.CACHE_POLICIES;
  let overrides: unknown;
  try {
    overrides = text ? JSON.parse(text) : undefined;
  } catch {
    throw new Error("CACHE_POLICIES: not JSON");
  }
  const { policies: merged, problems } = applyPolicyOverrides(overrides);
  if (problems.length > 0) throw new Error(`CACHE_POLICIES: ${problems.join("; ")}`);
  return merged;
}

async function main(): Promise<void> {
  const { redisUrl, token, originUrl, where } = targets();
  const redis = new Redis({ url: redisUrl, token, automaticDeserialization: false, enableTelemetry: false });
  const started = performance.now();
  const report = await warmListingViews({
    redis,
    keys: createKeyspace(process.env.KEY_PREFIX || DEFAULT_KEY_PREFIX),
    fetchOrigin: (path) => fetch(`${originUrl}${path}`),
    clock: systemClock,
    policies: policies(),
  });
  const ms = Math.round(performance.now() - started);
  if (report.outcome === "already-running")
    console.log(`warm: another warm holds the lock (${where}); nothing done`);
  else
    console.log(
      `warm: ${report.gpus} GPUs in ${report.pages} pages and ${report.collections ?? 0} price, stats and order-book records from ${originUrl} in ${ms} ms: ${report.written} GPUs written, ${report.newer} kept at a newer version (${where})`,
    );
}

main().catch((error: unknown) => {
  console.error(`warm: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
