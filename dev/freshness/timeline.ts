/**
 * What the writer had acknowledged: per entity (keyed by its cache tag, `gpu:<id>`,
 * `price:<type>:<region>`, core/tags.ts), each version and when the webhook carrying it was
 * answered 202. The comparator reads it: a read is judged only against versions acknowledged
 * before it was sent, so an event still in flight never counts against it.
 */

export interface AcknowledgedVersion {
  readonly version: number;
  /** On the run's clock (milliseconds). */
  readonly ackedAt: number;
}

/** One entity as a read showed it. */
export interface ShownVersion {
  readonly key: string;
  readonly version: number;
}

export class AckTimeline {
  readonly #byKey = new Map<string, AcknowledgedVersion[]>();

  /** A version seen twice keeps its first acknowledgement (a re-delivery changes nothing). */
  record(key: string, version: number, ackedAt: number): void {
    const versions = this.#byKey.get(key) ?? [];
    if (versions.some((known) => known.version === version)) return;
    versions.push({ version, ackedAt });
    this.#byKey.set(key, versions);
  }

  versions(key: string): readonly AcknowledgedVersion[] {
    return this.#byKey.get(key) ?? [];
  }

  keys(): IterableIterator<string> {
    return this.#byKey.keys();
  }

  /**
   * The age of a read sent at `sentAt` that showed `shown` of `key`: `sentAt` minus the
   * acknowledgement of the oldest version it misses (newer than `shown`, acknowledged before
   * `sentAt`), or 0 when it misses none. Entities the writer never changed have no versions: 0.
   */
  ageOf(key: string, shown: number, sentAt: number): number {
    let oldestMissed: number | undefined;
    for (const { version, ackedAt } of this.#byKey.get(key) ?? []) {
      if (version > shown && ackedAt < sentAt && (oldestMissed === undefined || ackedAt < oldestMissed))
        oldestMissed = ackedAt;
    }
    return oldestMissed === undefined ? 0 : sentAt - oldestMissed;
  }

  /** A read showing several entities (a listing) is as old as the oldest thing it misses. */
  readAge(shown: readonly ShownVersion[], sentAt: number): number {
    let age = 0;
    for (const item of shown) age = Math.max(age, this.ageOf(item.key, item.version, sentAt));
    return age;
  }
}
