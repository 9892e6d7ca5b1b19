/**
 * Which GPUs and prices a run changes and reads, chosen from the origin's own data so any
 * seed works: the first region-and-type pairs (in name order) with enough available GPUs, the
 * first of those GPUs by id, and each pair's list price.
 */
import type { Gpu, Price } from "../../core/domain";
import { gpuRecordTarget, listingTarget, priceTarget, type ReadTarget } from "./read-targets";
import type { PricePair } from "./writer";

export interface FreshnessTargets {
  readonly gpuIds: readonly string[];
  readonly pairs: readonly PricePair[];
}

export class TargetChoiceError extends Error {
  override readonly name = "TargetChoiceError";
}

/** The origin's largest page (dev/origin/schemas.ts MAX_LIST_LIMIT). */
const ORIGIN_PAGE = 500;

async function originJson<T>(originUrl: string, path: string): Promise<T> {
  const response = await fetch(`${originUrl}${path}`);
  if (!response.ok) throw new TargetChoiceError(`origin ${path} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Pure: the choice itself, from a page of available GPUs. */
export function pickTargets(
  available: readonly Pick<Gpu, "gpuId" | "region" | "gpuType">[],
  pairs: number,
  gpusPerPair: number,
): Array<{ region: string; gpuType: string; gpuIds: string[] }> {
  const byPair = new Map<string, { region: string; gpuType: string; gpuIds: string[] }>();
  for (const gpu of available) {
    const name = `${gpu.region}\u0000${gpu.gpuType}`;
    const pair = byPair.get(name) ?? { region: gpu.region, gpuType: gpu.gpuType, gpuIds: [] };
    pair.gpuIds.push(gpu.gpuId);
    byPair.set(name, pair);
  }
  const chosen = [...byPair.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, pair]) => pair)
    .filter((pair) => pair.gpuIds.length >= gpusPerPair)
    .slice(0, pairs)
    .map((pair) => ({ ...pair, gpuIds: [...pair.gpuIds].sort().slice(0, gpusPerPair) }));
  if (chosen.length < pairs)
    throw new TargetChoiceError(`only ${chosen.length} pairs have ${gpusPerPair} available GPUs`);
  return chosen;
}

export async function chooseTargets(
  originUrl: string,
  shape: { readonly pairs: number; readonly gpusPerPair: number },
): Promise<FreshnessTargets> {
  const page = await originJson<{ items: Gpu[] }>(
    originUrl,
    `/v1/gpus?status=available&limit=${ORIGIN_PAGE}`,
  );
  const chosen = pickTargets(page.items, shape.pairs, shape.gpusPerPair);
  const pairs: PricePair[] = [];
  for (const pair of chosen) {
    const query = new URLSearchParams({ type: pair.gpuType, region: pair.region });
    const price = await originJson<Price>(originUrl, `/v1/pricing?${query}`);
    pairs.push({ gpuType: pair.gpuType, region: pair.region, pricePerHour: price.pricePerHour });
  }
  return { gpuIds: chosen.flatMap((pair) => pair.gpuIds), pairs };
}

/** Every GPU's record, every pair's listing and price. */
export function readTargetsFor(targets: FreshnessTargets): ReadTarget[] {
  return [
    ...targets.gpuIds.map(gpuRecordTarget),
    ...targets.pairs.map((pair) => listingTarget(pair.region, pair.gpuType)),
    ...targets.pairs.map((pair) => priceTarget(pair.gpuType, pair.region)),
  ];
}
