/**
 * Concurrent readers through one base URL (the front cache, as clients read): each takes the
 * targets in turn, records when it sent the request, what tiers answered and which versions
 * the body showed. Bounded by a deadline and a total count, whichever comes first.
 */
import type { DataClassName } from "../../core/data-classes";
import type { ReadTarget, ReadTargetKind } from "./read-targets";
import type { ShownVersion } from "./timeline";

export interface FreshnessRead {
  readonly path: string;
  readonly kind: ReadTargetKind;
  readonly dataClass: DataClassName;
  /** On the run's clock, taken just before the request left. */
  readonly sentAt: number;
  readonly answeredAt: number;
  /** 0 when the request failed before an answer. */
  readonly status: number;
  /** The front cache's CF-Cache-Status; null without one. */
  readonly cfCacheStatus: string | null;
  /** The Worker's X-Cache (on a front HIT, the stored copy's). */
  readonly xCache: string | null;
  readonly shown: readonly ShownVersion[];
  /** Why the read gave no versions: a network error, a non-200, an unexpected body. */
  readonly error?: string;
}

export interface ReadersOptions {
  readonly baseUrl: string;
  readonly targets: readonly ReadTarget[];
  readonly readers: number;
  /** Readers stop sending once the clock passes this. */
  readonly until: number;
  /** And once this many reads were sent, in all. */
  readonly maxReads: number;
  /** Each reader waits this long between its reads, so the readers do not starve the stack of CPU. */
  readonly pauseMs: number;
  readonly now: () => number;
  /** Stops the readers early (the writer failed). */
  readonly signal?: AbortSignal;
  /** Per read (default 5 s): a hung read must not hold the run. */
  readonly timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readOnce(options: ReadersOptions, target: ReadTarget): Promise<FreshnessRead> {
  const sentAt = options.now();
  const base = { path: target.path, kind: target.kind, dataClass: target.dataClass, sentAt };
  let response: Response;
  try {
    response = await fetch(`${options.baseUrl}${target.path}`, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
  } catch (error) {
    return {
      ...base,
      answeredAt: options.now(),
      status: 0,
      cfCacheStatus: null,
      xCache: null,
      shown: [],
      error: (error as Error).message,
    };
  }
  const tiers = {
    status: response.status,
    cfCacheStatus: response.headers.get("cf-cache-status"),
    xCache: response.headers.get("x-cache"),
  };
  try {
    const text = await response.text();
    if (response.status !== 200)
      return { ...base, ...tiers, answeredAt: options.now(), shown: [], error: `status ${response.status}` };
    return { ...base, ...tiers, answeredAt: options.now(), shown: target.shown(JSON.parse(text)) };
  } catch (error) {
    return { ...base, ...tiers, answeredAt: options.now(), shown: [], error: (error as Error).message };
  }
}

export async function runReaders(options: ReadersOptions): Promise<FreshnessRead[]> {
  if (options.targets.length === 0) throw new RangeError("readers need at least one target");
  const reads: FreshnessRead[] = [];
  let sent = 0;
  const reader = async (index: number) => {
    // Each reader starts at another target, so every target is read from the first moment.
    for (let turn = index; ; turn++) {
      if (options.signal?.aborted || options.now() >= options.until || sent >= options.maxReads) return;
      sent++;
      const target = options.targets[turn % options.targets.length] as ReadTarget;
      reads.push(await readOnce(options, target));
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.readers }, (_, index) => reader(index)));
  return reads.sort((a, b) => a.sentAt - b.sentAt);
}
