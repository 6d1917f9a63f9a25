/**
 * Closed klines the engine still holds: those not yet acknowledged by a pull
 * (so a lost answer loses nothing) and those still inside the grace period
 * (a late trade may change them). Compact: one row of a KlineTable (176 bytes)
 * per kline, rows reused through a free list. The rows of one slot form a
 * doubly linked chain ordered by open time, newest at the head, so closing a
 * kline is O(1) and a late trade finds its (recent) kline in a few steps.
 */
import { F, KlineTable, W } from "./kline-table.js";

/** Store of closed klines, each tagged with its slot (symbol x interval). */
export class ClosedStore {
  readonly rows = new KlineTable(256);
  /** Rows in use. */
  size = 0;
  /** Rows ever handed out; rows below it are in use or free (Slot = -1). */
  highWater = 0;
  /** Free rows, a stack (the most recently freed row is reused first: it is the likeliest in cache). */
  private free = new Int32Array(256);
  private freeCount = 0;
  private readonly head: Int32Array;
  /**
   * Open time of each slot's head row (-1: no row), so closing a kline (always the slot's newest) links
   * it without reading the previous head row, which is cold by then.
   */
  private readonly headOpen: Float64Array;
  /**
   * Rows in the order they were added (roughly by close time): the order in which they are forgotten. A
   * ring whose length is a power of two, so positions wrap with a mask.
   */
  private fifo = new Int32Array(1024);
  private fifoHead = 0;
  private fifoLen = 0;

  constructor(slots: number) {
    this.head = new Int32Array(slots).fill(-1);
    this.headOpen = new Float64Array(slots).fill(-1);
  }

  /** Appends a copy of row i of `src` (whose OpenTime is set) as a closed kline of `slot`; returns its row. */
  add(slot: number, src: KlineTable, i: number): number {
    const r = this.reserve();
    this.rows.copyRow(r, src, i);
    this.link(slot, r);
    return r;
  }

  /** Adds an empty closed kline (no trades, prices `price`) of `slot` at `openTime`; returns its row. */
  addEmpty(slot: number, openTime: number, price: number): number {
    const r = this.reserve();
    this.rows.setEmpty(r, openTime, price);
    this.link(slot, r);
    return r;
  }

  /** The row of the closed kline of `slot` opening at `openTime`, or -1. */
  find(slot: number, openTime: number): number {
    const d = this.rows.d;
    let r = this.head[slot]!;
    while (r >= 0) {
      const o = d[r * W + F.OpenTime]!;
      if (o === openTime) return r;
      if (o < openTime) return -1;
      r = d[r * W + F.Older]!;
    }
    return -1;
  }

  /** The oldest row still held, or -1. */
  oldest(): number {
    return this.fifoLen === 0 ? -1 : this.fifo[this.fifoHead]!;
  }

  /** Rows queued for forgetting (= rows in use). */
  get queued(): number {
    return this.fifoLen;
  }

  /** Moves the oldest row to the back of the queue (it is still needed). */
  requeueOldest(): void {
    const r = this.fifo[this.fifoHead]!;
    const mask = this.fifo.length - 1;
    this.fifoHead = (this.fifoHead + 1) & mask;
    this.fifo[(this.fifoHead + this.fifoLen - 1) & mask] = r;
  }

  /** Frees the oldest row. */
  removeOldest(): void {
    const r = this.fifo[this.fifoHead]!;
    this.fifoHead = (this.fifoHead + 1) & (this.fifo.length - 1);
    this.fifoLen--;
    this.remove(r);
  }

  /** Frees row r (which the FIFO no longer lists). */
  private remove(r: number): void {
    const d = this.rows.d;
    const b = r * W;
    const older = d[b + F.Older]!;
    const newer = d[b + F.Newer]!;
    if (older >= 0) d[older * W + F.Newer] = newer;
    if (newer >= 0) {
      d[newer * W + F.Older] = older;
    } else {
      const slot = d[b + F.Slot]!;
      this.head[slot] = older;
      this.headOpen[slot] = older >= 0 ? d[older * W + F.OpenTime]! : -1;
    }
    d[b + F.Slot] = -1;
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = r;
    this.size--;
  }

  /** Inserts row r (OpenTime set) into the chain of `slot`, keeping it ordered by open time. */
  private link(slot: number, r: number): void {
    const d = this.rows.d;
    const b = r * W;
    d[b + F.Slot] = slot;
    const open = d[b + F.OpenTime]!;
    let newer = -1;
    let older = this.head[slot]!;
    if (this.headOpen[slot]! > open) {
      // Only a late trade's kline goes below the head: walk the chain.
      while (older >= 0 && d[older * W + F.OpenTime]! > open) {
        newer = older;
        older = d[older * W + F.Older]!;
      }
    }
    d[b + F.Older] = older;
    d[b + F.Newer] = newer;
    if (older >= 0) d[older * W + F.Newer] = r;
    if (newer >= 0) d[newer * W + F.Older] = r;
    else {
      this.head[slot] = r;
      this.headOpen[slot] = open;
    }
  }

  private reserve(): number {
    this.size++;
    let r: number;
    if (this.freeCount > 0) {
      r = this.free[--this.freeCount]!;
    } else {
      r = this.highWater++;
      if (r >= this.rows.capacity) this.rows.grow(r + 1);
    }
    if (this.fifoLen === this.fifo.length) {
      const grown = new Int32Array(this.fifo.length * 2);
      for (let i = 0; i < this.fifoLen; i++)
        grown[i] = this.fifo[(this.fifoHead + i) & (this.fifo.length - 1)]!;
      this.fifo = grown;
      this.fifoHead = 0;
    }
    this.fifo[(this.fifoHead + this.fifoLen++) & (this.fifo.length - 1)] = r;
    return r;
  }
}
