/**
 * The coalescing buffer of the writer. Pure: no I/O, the clock is passed in.
 *
 * Rows are kept by (symbol, interval, open time) with the highest version, so
 * the many intermediate versions of a kline that change every tick cost one
 * row per flush. The buffer also remembers, per topic partition, the offset
 * to commit once its rows are in ClickHouse: the offset after the last
 * message added (Kafka commits name the next message to read).
 */
import type { KlineRow } from "./row.js";

/** Offsets to commit after a successful insert, as "topic\0partition" -> next offset. */
export type PendingOffsets = Map<string, { topic: string; partition: number; offset: bigint }>;

/** What {@link CoalescingBuffer.drain} hands to the flush. */
export interface Drained {
  readonly rows: KlineRow[];
  readonly offsets: PendingOffsets;
  /** Rows added (before coalescing) since the previous drain. */
  readonly rowsIn: number;
  /** When the first row or offset of this batch was added. */
  readonly oldestAt: number | undefined;
}

/** Coalesces rows by key keeping the highest version, and tracks offsets to commit. */
export class CoalescingBuffer {
  private rows = new Map<string, KlineRow>();
  private offsets: PendingOffsets = new Map();
  private rowsIn = 0;
  private oldest: number | undefined;

  /** Distinct rows currently buffered. */
  get size(): number {
    return this.rows.size;
  }

  /** Rows added before coalescing since the last drain. */
  get added(): number {
    return this.rowsIn;
  }

  /** When the oldest unflushed row or offset was added, if any. */
  get oldestAt(): number | undefined {
    return this.oldest;
  }

  /** True when neither rows nor offsets wait for a flush. */
  get empty(): boolean {
    return this.rows.size === 0 && this.offsets.size === 0;
  }

  /**
   * Adds the rows of the message at `offset` of `topic`/`partition`. A message
   * without rows (e.g. one that was dead-lettered) still moves the offset, so
   * the next commit covers it.
   */
  add(rows: readonly KlineRow[], topic: string, partition: number, offset: bigint, now: number): void {
    this.oldest ??= now;
    for (const r of rows) {
      this.rowsIn++;
      const prev = this.rows.get(r.key);
      // Equal versions carry equal values (a version names one state of a kline), so keep either.
      if (prev === undefined || r.version > prev.version) this.rows.set(r.key, r);
    }
    const pk = `${topic}\u0000${partition}`;
    const next = offset + 1n;
    const cur = this.offsets.get(pk);
    if (cur === undefined || next > cur.offset) this.offsets.set(pk, { topic, partition, offset: next });
  }

  /** Takes everything buffered so far and starts an empty batch. */
  drain(): Drained {
    const out: Drained = {
      rows: [...this.rows.values()],
      offsets: this.offsets,
      rowsIn: this.rowsIn,
      oldestAt: this.oldest,
    };
    this.rows = new Map();
    this.offsets = new Map();
    this.rowsIn = 0;
    this.oldest = undefined;
    return out;
  }
}

/** The flush limits: whichever is reached first triggers an INSERT. */
export interface FlushLimits {
  /** Flush when this many distinct rows are buffered. */
  readonly maxRows: number;
  /** Flush when the oldest buffered row is this old. */
  readonly maxAgeMs: number;
}

/** What the flush policy decided. */
export type FlushDecision =
  | { flush: true; reason: "rows" | "age" }
  | { flush: false; /** ms until the age limit, or undefined when empty */ waitMs: number | undefined };

/** Decides whether a buffer of `rows` rows whose oldest entry is from `oldestAt` must be flushed at `now`. */
export function flushDecision(
  rows: number,
  oldestAt: number | undefined,
  now: number,
  limits: FlushLimits,
): FlushDecision {
  if (rows >= limits.maxRows) return { flush: true, reason: "rows" };
  if (oldestAt === undefined) return { flush: false, waitMs: undefined };
  const age = now - oldestAt;
  if (age >= limits.maxAgeMs) return { flush: true, reason: "age" };
  return { flush: false, waitMs: limits.maxAgeMs - age };
}

/**
 * Whether consumption must pause: while ClickHouse is failing (nothing can be
 * written, so reading more only grows memory), or while the rows waiting
 * (buffered plus being inserted) reach the memory bound.
 */
export function shouldPause(waitingRows: number, maxBufferedRows: number, sinkFailing: boolean): boolean {
  return sinkFailing || waitingRows >= maxBufferedRows;
}
