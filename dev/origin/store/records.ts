/** How records are keyed and handed out. */
import type { PairFilter } from "./types";

/** Prices, stats and order books are per (GPU type, region) pair. */
export function pairKey(gpuType: string, region: string): string {
  return `${gpuType}|${region}`;
}

export function matchesPair(record: { region: string; gpuType: string }, filter: PairFilter): boolean {
  return (
    (filter.region === undefined || record.region === filter.region) &&
    (filter.gpuType === undefined || record.gpuType === filter.gpuType)
  );
}

/** Frozen with its arrays (and their objects), so a record handed out can be kept as a snapshot. */
export function freeze<T extends object>(record: T): Readonly<T> {
  for (const value of Object.values(record)) {
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === "object" && item !== null) Object.freeze(item);
      Object.freeze(value);
    }
  }
  return Object.freeze(record);
}
