/**
 * Market stats are derived, never set: each (region, type) pair's figures come from its
 * GPUs, and a change re-derives the pairs it touched, bumping only those whose figures moved.
 */
import type { Gpu, MarketStats } from "../../../core/domain";
import { freeze, pairKey } from "./records";

export type StatsFigures = Omit<MarketStats, "version" | "updatedAt">;

/**
 * Rounded to 1/100 of a cent: a float sum drifts (ten GPUs at 0.55 average 0.5499999999999989),
 * and a dashboard or a test comparing the figure with a listed price should see 0.55.
 */
function averagePrice(prices: readonly number[]): number {
  return Math.round((prices.reduce((sum, price) => sum + price, 0) / prices.length) * 10_000) / 10_000;
}

export function computeStats(gpus: Iterable<Gpu>, region: string, gpuType: string): StatsFigures {
  let totalCount = 0;
  let busyCount = 0;
  const availablePrices: number[] = [];
  for (const gpu of gpus) {
    if (gpu.region !== region || gpu.gpuType !== gpuType) continue;
    totalCount += 1;
    if (gpu.status === "busy") busyCount += 1;
    else if (gpu.status === "available") availablePrices.push(gpu.pricePerHour);
  }
  const availableCount = availablePrices.length;
  const rentable = availableCount + busyCount;
  return {
    region,
    gpuType,
    totalCount,
    availableCount,
    busyCount,
    utilisation: rentable === 0 ? 0 : busyCount / rentable,
    averagePricePerHour: availableCount === 0 ? null : averagePrice(availablePrices),
    minPricePerHour: availableCount === 0 ? null : Math.min(...availablePrices),
  };
}

/** Recomputes the stats of every (region, type) the given GPU records belong to; returns those that changed. */
export function refreshStats(
  // The two maps it reads and replaces, not the whole state: the state builds its first stats with computeStats.
  state: { readonly gpus: ReadonlyMap<string, Gpu>; readonly stats: Map<string, MarketStats> },
  touched: readonly Gpu[],
  updatedAt: string,
): MarketStats[] {
  const pairs = new Map<string, { region: string; gpuType: string }>();
  for (const gpu of touched)
    pairs.set(pairKey(gpu.gpuType, gpu.region), { region: gpu.region, gpuType: gpu.gpuType });
  const changed: MarketStats[] = [];
  for (const [key, { region, gpuType }] of pairs) {
    const previous = state.stats.get(key);
    if (!previous) continue;
    const figures = computeStats(state.gpus.values(), region, gpuType);
    const same = (Object.keys(figures) as (keyof typeof figures)[]).every((k) => previous[k] === figures[k]);
    if (same) continue;
    const next = freeze<MarketStats>({ ...figures, version: previous.version + 1, updatedAt });
    state.stats.set(key, next);
    changed.push(next);
  }
  return changed;
}
