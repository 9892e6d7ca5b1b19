/**
 * Which regions and GPU types exist, from the edge's own cache of `/v1/regions` and
 * `/v1/gpu-types` (data class reference): a request naming any other is answered 400 before
 * its lookup, since each made-up value would otherwise cost an origin fetch and, for a
 * listing, a key in L2. The lists are read through the tiered cache like a client's read:
 * normally an L1 hit; on a cold isolate one read through L2 or the origin, which concurrent
 * requests share (single-flight). A list's ids are parsed once per body (by its ETag).
 *
 * When a list cannot be had at all (the origin down with no copy in any tier, or an answer
 * that is not a list), values are let through unchecked rather than refused: a request for a
 * real region must not turn into a 5xx or a 400 because the reference data is unavailable.
 * The list is then not asked for again for REFERENCE_RETRY_MS, so an outage costs one
 * reference read per list per isolate per period, and the values let through are counted
 * (`references.unchecked` in /_cache/stats).
 */
import type { MemoryUsage } from "../core/cache/memory-usage";
import { OBJECT_BYTES, SLOT_BYTES, stringBytes } from "../core/cache/memory-usage";
import type { CacheAnswer, CacheLookup, TieredCache, WaitUntil } from "../core/cache/tiered-cache";
import type { Keyspace } from "../core/keys";
import type { Clock } from "../core/time/clock";
import { REFERENCE_ROUTES, type ReferenceCheck, type ReferenceList, routes } from "./routes";
import type { EdgeLog } from "./telemetry";

/** Both lists' ids together: thousands of regions and types, far beyond any real catalogue. */
export const REFERENCE_LISTS_MAX_BYTES = 1024 * 1024;
/** How long a list that could not be had is not asked for again (values meanwhile pass unchecked). */
export const REFERENCE_RETRY_MS = 5_000;

/** Each list's item field holding the id (core/domain.ts regionSchema, gpuTypeSchema) and its name in a 400. */
const LISTS: Readonly<Record<ReferenceList, { readonly field: string; readonly noun: string }>> = {
  regions: { field: "regionId", noun: "region" },
  "gpu-types": { field: "gpuType", noun: "GPU type" },
};

interface HeldList {
  readonly etag: string;
  readonly ids: ReadonlySet<string>;
  readonly bytes: number;
}

export interface ReferenceCatalogOptions {
  readonly cache: Pick<TieredCache, "get">;
  readonly keys: Keyspace;
  readonly clock: Clock;
  readonly log: Pick<EdgeLog, "warn">;
  readonly maxBytes?: number;
  readonly retryMs?: number;
}

export interface ReferenceCheckStats {
  /** Values checked against a list. */
  checked: number;
  /** Requests refused for naming an unknown value. */
  refused: number;
  /** Values let through because their list could not be had. */
  unchecked: number;
}

/** The ids of a `{ "items": [{ <field>: "<id>" }, …] }` body; undefined for anything else. */
function idsIn(body: string, field: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const items = (parsed as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return undefined;
  const ids: string[] = [];
  for (const item of items) {
    const id = (item as Record<string, unknown> | null)?.[field];
    if (typeof id !== "string") return undefined;
    ids.push(id);
  }
  return ids;
}

function heldBytes(ids: readonly string[]): number {
  let bytes = 2 * OBJECT_BYTES;
  for (const id of ids) bytes += stringBytes(id) + SLOT_BYTES;
  return bytes;
}

export class ReferenceCatalog {
  readonly stats: ReferenceCheckStats = { checked: 0, refused: 0, unchecked: 0 };
  private readonly held = new Map<ReferenceList, HeldList>();
  private readonly unavailableUntil = new Map<ReferenceList, number>();
  private readonly lookups: Readonly<Record<ReferenceList, CacheLookup>>;
  private readonly maxBytes: number;
  private readonly retryMs: number;

  constructor(private readonly options: ReferenceCatalogOptions) {
    this.maxBytes = options.maxBytes ?? REFERENCE_LISTS_MAX_BYTES;
    this.retryMs = options.retryMs ?? REFERENCE_RETRY_MS;
    const lookupOf = (list: ReferenceList): CacheLookup => {
      const resolve = routes[REFERENCE_ROUTES[list]];
      if (!resolve) throw new Error(`no route for the reference list ${list}`);
      return resolve({}, {}, options.keys);
    };
    this.lookups = { regions: lookupOf("regions"), "gpu-types": lookupOf("gpu-types") };
  }

  /** The ids held now, against their budget, for /_cache/stats. */
  get memory(): MemoryUsage {
    let entries = 0;
    let bytes = 0;
    for (const list of this.held.values()) {
      entries += list.ids.size;
      bytes += list.bytes;
    }
    return { entries, bytes, maxBytes: this.maxBytes };
  }

  /**
   * One problem per value its list does not name (`region: unknown region "mars-1"`), in the
   * order of `checks`; none for a value whose list cannot be had.
   */
  async problems(checks: readonly ReferenceCheck[], ctx: WaitUntil): Promise<string[]> {
    const wanted = [...new Set(checks.map((check) => check.list))];
    const found = await Promise.all(wanted.map((list) => this.idsOf(list, ctx)));
    const idsByList = new Map(wanted.map((list, index) => [list, found[index]]));
    const problems: string[] = [];
    for (const check of checks) {
      const ids = idsByList.get(check.list);
      if (!ids) {
        this.stats.unchecked += 1;
        continue;
      }
      this.stats.checked += 1;
      if (!ids.has(check.value)) {
        problems.push(`${check.parameter}: unknown ${LISTS[check.list].noun} "${check.value}"`);
      }
    }
    if (problems.length > 0) this.stats.refused += 1;
    return problems;
  }

  private async idsOf(list: ReferenceList, ctx: WaitUntil): Promise<ReadonlySet<string> | undefined> {
    if ((this.unavailableUntil.get(list) ?? Number.NEGATIVE_INFINITY) > this.options.clock.now()) {
      return undefined;
    }
    let answer: CacheAnswer;
    try {
      answer = await this.options.cache.get(this.lookups[list], ctx);
    } catch (error) {
      return this.unavailable(list, error instanceof Error ? error.message : String(error));
    }
    if (answer.status !== 200 || answer.etag === undefined) {
      return this.unavailable(list, `the origin answered ${answer.status}`);
    }
    const current = this.held.get(list);
    if (current?.etag === answer.etag) return current.ids;

    const ids = idsIn(answer.body, LISTS[list].field);
    if (!ids) return this.unavailable(list, `not a list of items with a string ${LISTS[list].field}`);
    const bytes = heldBytes(ids);
    const others = this.memory.bytes - (current?.bytes ?? 0);
    if (others + bytes > this.maxBytes) {
      return this.unavailable(
        list,
        `${bytes} bytes of ids, more than the ${this.maxBytes} the lists may hold`,
      );
    }
    const held = { etag: answer.etag, ids: new Set(ids), bytes };
    this.held.set(list, held);
    this.unavailableUntil.delete(list);
    return held.ids;
  }

  private unavailable(list: ReferenceList, reason: string): undefined {
    const now = this.options.clock.now();
    // Requests that shared the failed read all end here: one of them logs it.
    const logged = (this.unavailableUntil.get(list) ?? Number.NEGATIVE_INFINITY) > now;
    this.unavailableUntil.set(list, now + this.retryMs);
    if (logged) return undefined;
    this.options.log.warn("reference-list-unavailable", {
      list: REFERENCE_ROUTES[list],
      reason,
      uncheckedForMs: this.retryMs,
    });
    return undefined;
  }
}
