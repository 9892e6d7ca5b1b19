/**
 * A sorted set: members by (score, member bytes), as Redis's skiplist orders them, in a
 * sorted array (binary search; inserts move the tail, fine at the sizes a dev store holds)
 * beside a member → score map.
 */
import type { Bin } from "./bytes";

export interface ZEntry {
  readonly member: Bin;
  readonly score: number;
}

/** One end of a score range: ZRANGEBYSCORE's `(` makes it exclusive. */
export interface ScoreBound {
  readonly value: number;
  readonly exclusive: boolean;
}

/** One end of a lex range: `-` / `+` are the extremes, `(` exclusive, `[` inclusive. */
export type LexBound =
  | { readonly kind: "min" }
  | { readonly kind: "max" }
  | { readonly kind: "value"; readonly value: Bin; readonly exclusive: boolean };

function compare(a: ZEntry, score: number, member: Bin): number {
  if (a.score !== score) return a.score < score ? -1 : 1;
  return a.member < member ? -1 : a.member > member ? 1 : 0;
}

export class SortedSet {
  private readonly scores = new Map<Bin, number>();
  private readonly entries: ZEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  score(member: Bin): number | undefined {
    return this.scores.get(member);
  }

  /** Adds or moves `member`. */
  set(member: Bin, score: number): void {
    const previous = this.scores.get(member);
    if (previous !== undefined) {
      if (previous === score) return;
      this.entries.splice(this.indexOf(member, previous), 1);
    }
    this.scores.set(member, score);
    this.entries.splice(this.search(score, member), 0, { member, score });
  }

  delete(member: Bin): boolean {
    const score = this.scores.get(member);
    if (score === undefined) return false;
    this.entries.splice(this.indexOf(member, score), 1);
    this.scores.delete(member);
    return true;
  }

  /** 0-based rank in ascending order. */
  rank(member: Bin): number | undefined {
    const score = this.scores.get(member);
    return score === undefined ? undefined : this.indexOf(member, score);
  }

  at(index: number): ZEntry | undefined {
    return this.entries[index];
  }

  slice(start: number, end: number): ZEntry[] {
    return this.entries.slice(start, end);
  }

  [Symbol.iterator](): IterableIterator<ZEntry> {
    return this.entries[Symbol.iterator]();
  }

  /** Index range [from, to) of the entries whose score lies within min..max. */
  scoreRange(min: ScoreBound, max: ScoreBound): [number, number] {
    const from = this.firstIndex((entry) =>
      min.exclusive ? entry.score > min.value : entry.score >= min.value,
    );
    const to = this.firstIndex((entry) =>
      max.exclusive ? entry.score >= max.value : entry.score > max.value,
    );
    return [from, Math.max(from, to)];
  }

  /** Index range [from, to) of the members within min..max (meaningful when scores are equal, as in Redis). */
  lexRange(min: LexBound, max: LexBound): [number, number] {
    const from = this.firstIndex((entry) => lexAtLeast(entry.member, min));
    const to = this.firstIndex((entry) => !lexAtMost(entry.member, max));
    return [from, Math.max(from, to)];
  }

  private indexOf(member: Bin, score: number): number {
    return this.search(score, member);
  }

  /** First index whose entry is not below (score, member). */
  private search(score: number, member: Bin): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(this.entries[middle] as ZEntry, score, member) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** First index where `test` holds (`test` false then true along the order). */
  private firstIndex(test: (entry: ZEntry) => boolean): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (test(this.entries[middle] as ZEntry)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

function lexAtLeast(member: Bin, min: LexBound): boolean {
  if (min.kind === "min") return true;
  if (min.kind === "max") return false;
  return min.exclusive ? member > min.value : member >= min.value;
}

function lexAtMost(member: Bin, max: LexBound): boolean {
  if (max.kind === "max") return true;
  if (max.kind === "min") return false;
  return max.exclusive ? member < max.value : member <= max.value;
}
