/**
 * A seeded Zipf sampler: rank r (1-based) is drawn with probability ∝ r^-s. The same seed
 * gives the same request stream on every machine, so runs differ by the machine only.
 */
import { mulberry32 } from "../../dev/origin/generate";

export function zipfSampler(keys: number, s: number, seed: number): () => number {
  if (!Number.isInteger(keys) || keys < 1) throw new RangeError("zipf: keys must be a positive integer");
  if (!(s > 0)) throw new RangeError("zipf: s must be positive");
  const cumulative = new Float64Array(keys);
  let total = 0;
  for (let rank = 1; rank <= keys; rank++) {
    total += rank ** -s;
    cumulative[rank - 1] = total;
  }
  const random = mulberry32(seed);
  return () => {
    const target = random() * total;
    let low = 0;
    let high = keys - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] ?? 0) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/** A deterministic shuffle, so which key gets which rank does not follow the order keys were listed in. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const shuffled = [...items];
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other] as T, shuffled[index] as T];
  }
  return shuffled;
}
