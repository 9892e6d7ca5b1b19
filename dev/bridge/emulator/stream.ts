/**
 * A stream as Redis 7.0 keeps one: entries in "nodes" (listpacks of at most
 * stream-node-max-entries = 100 entries or stream-node-max-bytes = 4096 bytes), because
 * `MAXLEN ~` / `MINID ~` only ever remove whole nodes, and a deleted entry keeps its place
 * in its node until the node goes. The byte size of each node is computed as Redis's listpack
 * would lay it out, so approximate trimming removes exactly what Redis removes.
 */
import type { Bin } from "./bytes";
import { parseInt64 } from "./numbers";

export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export interface StreamEntry {
  readonly id: StreamId;
  /** field, value, field, value… */
  readonly fields: readonly Bin[];
}

export const UINT64_MAX = 2n ** 64n - 1n;
export const MIN_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: UINT64_MAX, seq: UINT64_MAX };

const NODE_MAX_ENTRIES = 100;
const NODE_MAX_BYTES = 4096;
/** listpack header (total bytes, element count) and end marker. */
const LISTPACK_OVERHEAD = 6 + 1;

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** streamIncrID; undefined past the last possible id. */
export function nextIdAfter(id: StreamId): StreamId | undefined {
  if (id.seq < UINT64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return id.ms < UINT64_MAX ? { ms: id.ms + 1n, seq: 0n } : undefined;
}

/** streamDecrID; undefined before 0-0. */
export function previousIdBefore(id: StreamId): StreamId | undefined {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  return id.ms > 0n ? { ms: id.ms - 1n, seq: UINT64_MAX } : undefined;
}

/** Bytes a listpack element takes for an integer (lpEncodeIntegerGetType) plus its backlen. */
function integerSize(value: number | bigint): number {
  const v = BigInt(value);
  let size: number;
  if (v >= 0n && v <= 127n) size = 1;
  else if (v >= -4096n && v <= 4095n) size = 2;
  else if (v >= -32768n && v <= 32767n) size = 3;
  else if (v >= -8388608n && v <= 8388607n) size = 4;
  else if (v >= -2147483648n && v <= 2147483647n) size = 5;
  else size = 9;
  return size + 1;
}

/** Bytes a listpack element takes for a string (stored as an integer when it reads as one). */
function stringSize(value: Bin): number {
  const asInteger = parseInt64(value);
  if (asInteger !== undefined) return integerSize(asInteger);
  const length = value.length;
  const encoded = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length;
  return encoded + backlenSize(encoded);
}

function backlenSize(encoded: number): number {
  if (encoded <= 127) return 1;
  if (encoded < 16383) return 2;
  if (encoded < 2097151) return 3;
  if (encoded < 268435455) return 4;
  return 5;
}

class StreamNode {
  /** Live entries, in id order. */
  readonly entries: StreamEntry[] = [];
  deleted = 0;
  bytes: number;
  /** The id of the node's last entry, deleted or not (what MINID compares). */
  lastId: StreamId;

  constructor(
    readonly masterId: StreamId,
    readonly masterFields: readonly Bin[],
  ) {
    this.lastId = masterId;
    this.bytes =
      LISTPACK_OVERHEAD +
      integerSize(0) +
      integerSize(0) +
      integerSize(masterFields.length) +
      masterFields.reduce((sum, field) => sum + stringSize(field), 0) +
      integerSize(0);
  }

  get live(): number {
    return this.entries.length;
  }

  append(entry: StreamEntry): void {
    const fieldCount = entry.fields.length / 2;
    const sameFields =
      fieldCount === this.masterFields.length &&
      this.masterFields.every((field, i) => entry.fields[2 * i] === field);
    this.resizeCounters(() => this.entries.push(entry));
    let size =
      integerSize(sameFields ? 2 : 0) +
      integerSize(entry.id.ms - this.masterId.ms) +
      integerSize(entry.id.seq - this.masterId.seq);
    if (!sameFields) size += integerSize(fieldCount);
    for (let i = 0; i < entry.fields.length; i++) {
      if (i % 2 === 1 || !sameFields) size += stringSize(entry.fields[i] as Bin);
    }
    size += integerSize(fieldCount + 3 + (sameFields ? 0 : fieldCount + 1));
    this.bytes += size;
    this.lastId = entry.id;
  }

  /** Marks the entry at `index` deleted: it leaves the live entries but keeps its bytes. */
  markDeleted(index: number): void {
    this.resizeCounters(() => {
      this.entries.splice(index, 1);
      this.deleted++;
    });
  }

  /** The master entry's live/deleted counters are listpack integers whose size follows their value. */
  private resizeCounters(change: () => void): void {
    const before = integerSize(this.live) + integerSize(this.deleted);
    change();
    this.bytes += integerSize(this.live) + integerSize(this.deleted) - before;
  }
}

export type TrimStrategy =
  | { readonly kind: "maxlen"; readonly maxlen: number }
  | { readonly kind: "minid"; readonly minid: StreamId };

export interface TrimOptions {
  readonly strategy: TrimStrategy;
  /** `~`: only whole nodes go. */
  readonly approximate: boolean;
  /** At most this many entries go (0: no limit). */
  readonly limit: number;
}

export class Stream {
  private nodes: StreamNode[] = [];
  length = 0;
  lastId: StreamId = MIN_ID;
  maxDeletedId: StreamId = MIN_ID;
  entriesAdded = 0;
  /** recorded-first-entry-id: 0-0 when empty. */
  firstId: StreamId = MIN_ID;

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The id `*` gives at `now` (streamNextID): the time, or the last id's successor when time has not moved on. */
  autoId(now: number): StreamId | undefined {
    const ms = BigInt(Math.max(0, Math.floor(now)));
    return ms > this.lastId.ms ? { ms, seq: 0n } : nextIdAfter(this.lastId);
  }

  /** Appends an entry whose id is known to be greater than lastId. */
  append(id: StreamId, fields: readonly Bin[]): void {
    const entry: StreamEntry = { id, fields };
    let tail = this.nodes.at(-1);
    const entryBytes = fields.reduce((sum, part) => sum + part.length, 0);
    if (!tail || tail.bytes + entryBytes >= NODE_MAX_BYTES || tail.live + tail.deleted >= NODE_MAX_ENTRIES) {
      tail = new StreamNode(
        id,
        fields.filter((_, i) => i % 2 === 0),
      );
      this.nodes.push(tail);
    }
    tail.append(entry);
    this.length++;
    this.entriesAdded++;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  /** XDEL of one id: true when it was there. */
  delete(id: StreamId): boolean {
    const nodeIndex = this.nodeIndexFor(id);
    const node = this.nodes[nodeIndex];
    if (!node) return false;
    const index = node.entries.findIndex((entry) => compareIds(entry.id, id) === 0);
    if (index < 0) return false;
    if (node.live === 1) this.nodes.splice(nodeIndex, 1);
    else node.markDeleted(index);
    this.length--;
    if (compareIds(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    return true;
  }

  /** After XDEL: the recorded first id follows the first live entry. */
  refreshFirstId(): void {
    this.firstId = this.first()?.id ?? MIN_ID;
  }

  /** streamTrim: removes entries from the head; returns how many went. */
  trim({ strategy, approximate, limit }: TrimOptions): number {
    let deleted = 0;
    while (this.nodes.length > 0) {
      if (strategy.kind === "maxlen" && this.length <= strategy.maxlen) break;
      const node = this.nodes[0] as StreamNode;
      if (limit && deleted + node.live > limit) break;
      const removeNode =
        strategy.kind === "maxlen"
          ? this.length - node.live >= strategy.maxlen
          : compareIds(node.lastId, strategy.minid) < 0;
      if (removeNode) {
        this.nodes.shift();
        this.length -= node.live;
        deleted += node.live;
        continue;
      }
      if (approximate) break;
      while (node.live > 0) {
        const head = node.entries[0] as StreamEntry;
        const stop =
          strategy.kind === "maxlen"
            ? this.length <= strategy.maxlen
            : compareIds(head.id, strategy.minid) >= 0;
        if (stop) break;
        node.markDeleted(0);
        this.length--;
        deleted++;
      }
      break;
    }
    if (this.length === 0) this.firstId = MIN_ID;
    else if (deleted) this.refreshFirstId();
    return deleted;
  }

  /** Entries from start to end inclusive, at most `count` (0: all), newest first when `reverse`. */
  range(start: StreamId, end: StreamId, count: number, reverse: boolean): StreamEntry[] {
    const found: StreamEntry[] = [];
    if (compareIds(start, end) > 0) return found;
    const within = (entry: StreamEntry) => compareIds(entry.id, start) >= 0 && compareIds(entry.id, end) <= 0;
    if (!reverse) {
      for (let n = this.nodeIndexFor(start); n < this.nodes.length; n++) {
        for (const entry of (this.nodes[n] as StreamNode).entries) {
          if (compareIds(entry.id, end) > 0) return found;
          if (within(entry)) found.push(entry);
          if (count && found.length >= count) return found;
        }
      }
      return found;
    }
    for (let n = Math.min(this.nodeIndexFor(end), this.nodes.length - 1); n >= 0; n--) {
      const entries = (this.nodes[n] as StreamNode).entries;
      for (let i = entries.length - 1; i >= 0; i--) {
        const entry = entries[i] as StreamEntry;
        if (compareIds(entry.id, start) < 0) return found;
        if (within(entry)) found.push(entry);
        if (count && found.length >= count) return found;
      }
    }
    return found;
  }

  first(): StreamEntry | undefined {
    return this.range(MIN_ID, MAX_ID, 1, false)[0];
  }

  last(): StreamEntry | undefined {
    return this.range(MIN_ID, MAX_ID, 1, true)[0];
  }

  /** The first node whose last id is not below `id` (the only one that can hold it). */
  private nodeIndexFor(id: StreamId): number {
    let low = 0;
    let high = this.nodes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareIds((this.nodes[middle] as StreamNode).lastId, id) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
