/**
 * The engine's state and its folding machinery (see engine.ts for the design):
 * pending accumulators P0/P1, the live slots, the closed store, and the moves
 * between them. Everything here stamps versions; nothing here parses trades.
 */
import { ChangeLog } from "./change-log.js";
import { ClosedStore } from "./closed-store.js";
import type { EngineOptions, KlineRowVisitor } from "./engine-api.js";
import { intervalSpec, nextOpenTime, openTime, type IntervalSpec } from "./intervals.js";
import { PriceStrings, RecordBuilder } from "./kline-record.js";
import { F, KlineTable, W } from "./kline-table.js";
import { rescaleSymbol } from "./rescale.js";
import { TradeIds } from "./trade-ids.js";
import { INTERVALS, type Interval, type KlineRecord } from "./types.js";

/** Most empty klines emitted for one slot in one step; older ones are skipped and counted. */
export const MAX_EMPTY_RUN = 100_000;
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/** State and folding of a kline engine. */
export class EngineState {
  readonly epoch: number;
  version: number;
  readonly symbols: readonly string[];
  protected readonly symbolIndex = new Map<string, number>();
  readonly intervals: readonly Interval[];
  protected readonly specs: readonly IntervalSpec[];
  protected readonly nInt: number;
  /**
   * Intervals 0..nA-1 are fed from P0, the others from P1: nA is 1 when the shortest interval is the base
   * bucket itself (1s, or 1m without 1s), else 0. With 1s configured the 1m kline is fed from P1 too, so a
   * 1 s bucket change costs one kline update plus one accumulator merge; 1m is brought up to date when a
   * pull (or advanceTime, a late trade, closeAll) folds P1, or when the minute changes.
   */
  protected readonly nA: number;
  protected readonly baseMs: number;
  protected readonly graceMs: number;
  protected readonly emptyKlines: boolean;
  /** Decimals of each symbol's prices and quantities; -1 until its first trade. */
  protected readonly priceDec: Int8Array;
  protected readonly qtyDec: Int8Array;
  /** Highest accepted trade time per symbol (-1: none). */
  protected readonly maxTime: Float64Array;
  private readonly dirty: Int32Array;
  private dirtyCount = 0;
  private readonly isDirty: Uint8Array;
  /**
   * P0 of every symbol (row s): the trades of the current base bucket not yet folded (OpenTime =
   * bucket, -1: none). A dense table of its own, because every trade touches it: 2,000 symbols' P0
   * fit in ~350 KB (L2) and a few pages, where rows interleaved with the slots would cost a TLB miss.
   */
  protected readonly p0: KlineTable;
  /**
   * P1 of every symbol (row s): the trades folded into the shortest interval's slot but not yet into the
   * longer ones (OpenTime = minute). Dense like P0, because every base bucket change touches it.
   */
  protected readonly p1: KlineTable;
  /** The live kline of every slot, slot j = symbol x nInt + interval (fields Has and Next tell its state). */
  protected readonly slots: KlineTable;
  protected readonly closed: ClosedStore;
  protected readonly scratch = new KlineTable(1);
  protected readonly ids: TradeIds;
  protected readonly log: ChangeLog;
  private readonly prices: PriceStrings;
  /** Highest time given to advanceTime (-1: never). */
  protected now = -1;
  protected emptySkipped = 0;
  /** Slots with a kline (open klines). */
  protected openCount = 0;
  private readonly maxRetained: number;
  /** Closed klines forgotten unacknowledged at the retention bound. */
  protected closedDropped = 0;

  constructor(opts: EngineOptions) {
    if (!Number.isSafeInteger(opts.epoch) || opts.epoch < 0 || opts.epoch * 1000 > MAX_EXACT) {
      throw new RangeError(`engine epoch ${opts.epoch} must be a non-negative integer below 2^53/1000`);
    }
    if (!Number.isSafeInteger(opts.graceMs) || opts.graceMs < 0) {
      throw new RangeError(`engine graceMs ${opts.graceMs} must be a non-negative integer`);
    }
    const off = opts.utcOffsetMinutes;
    if (!Number.isInteger(off) || off < -12 * 60 || off > 14 * 60) {
      throw new RangeError(`engine utcOffsetMinutes ${off} must be an integer in [-720, 840]`);
    }
    const wanted = new Set<string>(opts.intervals);
    for (const iv of wanted) {
      if (!(INTERVALS as readonly string[]).includes(iv)) {
        throw new RangeError(`engine interval ${JSON.stringify(iv)} is not a Binance interval`);
      }
    }
    this.intervals = INTERVALS.filter((iv) => wanted.has(iv));
    if (this.intervals.length === 0) throw new RangeError("engine needs at least one interval");
    this.symbols = [...opts.symbols];
    this.symbols.forEach((s, i) => {
      if (this.symbolIndex.has(s)) throw new RangeError(`engine symbol ${JSON.stringify(s)} is listed twice`);
      this.symbolIndex.set(s, i);
    });
    const nSym = this.symbols.length;
    this.nInt = this.intervals.length;
    this.nA = this.intervals[0] === "1s" || this.intervals[0] === "1m" ? 1 : 0;
    this.specs = this.intervals.map((iv) => intervalSpec(iv, off));
    this.baseMs = this.intervals[0] === "1s" ? 1000 : 60_000;
    this.epoch = opts.epoch;
    this.version = opts.epoch * 1000;
    this.graceMs = opts.graceMs;
    const max = opts.maxRetainedClosed ?? Infinity;
    if (!(max >= 1) || (max !== Infinity && !Number.isSafeInteger(max))) {
      throw new RangeError(`engine maxRetainedClosed ${max} must be a positive integer`);
    }
    this.maxRetained = max;
    this.emptyKlines = opts.emptyKlines;
    this.priceDec = new Int8Array(nSym).fill(-1);
    this.qtyDec = new Int8Array(nSym).fill(-1);
    this.maxTime = new Float64Array(nSym).fill(-1);
    this.slots = new KlineTable(nSym * this.nInt);
    this.p0 = new KlineTable(nSym);
    this.p1 = new KlineTable(nSym);
    for (let s = 0; s < nSym; s++) this.p0.d[s * W + F.OpenTime] = -1;
    this.dirty = new Int32Array(nSym);
    this.isDirty = new Uint8Array(nSym);
    this.closed = new ClosedStore(nSym * this.nInt);
    this.ids = new TradeIds(nSym);
    this.log = new ChangeLog(this.version);
    this.prices = new PriceStrings(nSym);
  }

  /** Gives slot j's kline a new version. */
  protected stampSlot(j: number): void {
    this.slots.d[j * W + F.Version] = ++this.version;
    this.log.record(j);
  }

  /** Gives closed row r a new version (and keeps the closed store within its bound). */
  protected stampRow(r: number): void {
    this.closed.rows.d[r * W + F.Version] = ++this.version;
    this.log.record(~r); // -r - 1, in int32 arithmetic (-0 for row 0 would deoptimize)
    if (this.closed.size > this.maxRetained) {
      this.closed.removeOldest(); // the change log entry of a forgotten row is skipped (its Slot is -1)
      this.closedDropped++;
    }
  }

  /** The slot (row) of interval k of symbol s. */
  protected slotOf(s: number, k: number): number {
    return s * this.nInt + k;
  }

  /** The symbol of slot j. */
  protected symbolOf(j: number): number {
    return Math.floor(j / this.nInt);
  }

  /** The interval index of slot j. */
  protected intervalOf(j: number): number {
    return j % this.nInt;
  }

  protected markDirty(s: number): void {
    if (this.isDirty[s] === 0) {
      this.isDirty[s] = 1;
      this.dirty[this.dirtyCount++] = s;
    }
  }

  protected foldAll(): void {
    for (let i = 0; i < this.dirtyCount; i++) {
      const s = this.dirty[i]!;
      this.isDirty[s] = 0;
      this.foldSymbol(s);
    }
    this.dirtyCount = 0;
  }

  /** Folds both accumulators of symbol s: all its slots are then current. */
  protected foldSymbol(s: number): void {
    this.foldP0(s);
    this.foldP1(s);
  }

  /**
   * Merges P0 of symbol s into the shortest interval's slot (nA of them) and into P1, and empties it.
   * `complete`: a later trade has passed the bucket's close time, so its kline is closed right away
   * (straight from P0 into the closed store: one row copy, where opening it in the slot and closing it at
   * the next fold took two copies and two versions).
   */
  protected foldP0(s: number, complete = false): void {
    const p0 = this.p0;
    const d0 = p0.d;
    const b = s * W;
    if (d0[b + F.Count] === 0) return;
    const bucket = d0[b + F.OpenTime]!;
    const j0 = s * this.nInt;
    if (complete && this.nA === 1) this.closeBase(j0, bucket, s);
    else for (let k = 0; k < this.nA; k++) this.mergeInto(j0 + k, k, bucket, p0, s);
    if (this.nA < this.nInt) {
      const minute = Math.floor(bucket / 60_000) * 60_000;
      const p1 = this.p1;
      const d1 = p1.d;
      if (d1[b + F.Count]! > 0 && d1[b + F.OpenTime] !== minute) this.foldP1(s);
      if (d1[b + F.Count] === 0) p1.copyRow(s, p0, s);
      else p1.mergeRow(s, p0, s);
      d1[b + F.OpenTime] = minute;
    }
    d0[b + F.Count] = 0;
  }

  /** Merges P1 of symbol s into the slots fed from it (1m and longer when 1s is configured), and empties it. */
  protected foldP1(s: number): void {
    const d1 = this.p1.d;
    if (d1[s * W + F.Count] === 0) return;
    const minute = d1[s * W + F.OpenTime]!;
    const j0 = s * this.nInt;
    for (let k = this.nA; k < this.nInt; k++) this.mergeInto(j0 + k, k, minute, this.p1, s);
    d1[s * W + F.Count] = 0;
  }

  /** Closes the base interval's kline of slot j at `bucket`, made of what slot j holds of it and P0 row s. */
  private closeBase(j: number, bucket: number, s: number): void {
    const d = this.slots.d;
    if (d[j * W + F.Has] === 1 && bucket < d[j * W + F.Next]!) {
      this.slots.mergeRow(j, this.p0, s); // a pull folded part of this bucket into the slot
      this.closeSlot(j);
      return;
    }
    this.rollTo(j, 0, bucket, false);
    this.stampRow(this.closed.add(j, this.p0, s));
    d[j * W + F.Next] = bucket + this.baseMs; // the base interval (1s or 1m) has a fixed length
    d[j * W + F.Close] = this.p0.d[s * W + F.Close]!; // the price of the empty klines that may follow
  }

  /** Merges accumulator row i of `src` (trades at time `t` and later in the same bucket) into the kline of slot j containing t. */
  private mergeInto(j: number, k: number, t: number, src: KlineTable, i: number): void {
    const d = this.slots.d;
    if (d[j * W + F.Has] === 1 && t < d[j * W + F.Next]!) {
      this.slots.mergeRow(j, src, i);
      this.stampSlot(j);
    } else {
      this.startKline(j, k, openTime(this.specs[k]!, t), src, i);
    }
  }

  /** Makes row i of `src` the kline of slot j opening at `open` (after the current one). */
  protected startKline(j: number, k: number, open: number, src: KlineTable, i: number): void {
    this.rollTo(j, k, open, false);
    const slots = this.slots;
    slots.copyRow(j, src, i);
    slots.d[j * W + F.OpenTime] = open;
    this.stampSlot(j);
    this.slots.d[j * W + F.Has] = 1; // rollTo left it 0
    this.openCount++;
    this.slots.d[j * W + F.Next] = nextOpenTime(this.specs[k]!, open);
  }

  /**
   * Moves slot j forward so that the kline opening at `target` is next: closes
   * the current kline, emits the empty klines in between (when configured) and,
   * with `createCurrent`, opens an empty kline at `target`.
   */
  protected rollTo(j: number, k: number, target: number, createCurrent: boolean): void {
    if (this.slots.d[j * W + F.Has] === 1) {
      if (this.slots.d[j * W + F.OpenTime] === target) return;
      this.closeSlot(j);
    }
    let o = this.slots.d[j * W + F.Next]!;
    if (!this.emptyKlines || o === 0) return;
    const spec = this.specs[k]!;
    const price = this.slots.d[j * W + F.Close]!;
    if (spec.lengthMs > 0) {
      const n = (target - o) / spec.lengthMs;
      if (n > MAX_EMPTY_RUN) {
        this.emptySkipped += n - MAX_EMPTY_RUN;
        o += (n - MAX_EMPTY_RUN) * spec.lengthMs;
      }
    }
    for (; o < target; o = nextOpenTime(spec, o)) this.stampRow(this.closed.addEmpty(j, o, price));
    this.slots.d[j * W + F.Next] = target;
    if (createCurrent) {
      this.slots.setEmpty(j, target, price);
      this.stampSlot(j);
      this.slots.d[j * W + F.Has] = 1;
      this.openCount++;
      this.slots.d[j * W + F.Next] = nextOpenTime(spec, target);
    }
  }

  /** Moves slot j's kline to the closed store with a new version. */
  protected closeSlot(j: number): void {
    this.stampRow(this.closed.add(j, this.slots, j));
    this.slots.d[j * W + F.Has] = 0;
    this.openCount--;
  }

  /** Raises symbol s's decimals to (dp, dq); false when that would leave exact range. */
  protected rescale(s: number, dp: number, dq: number): boolean {
    const tables = { p0: this.p0, p1: this.p1, slots: this.slots, closed: this.closed, stride: this.nInt };
    if (!rescaleSymbol(tables, s, dp - this.priceDec[s]!, dq - this.qtyDec[s]!)) return false;
    this.priceDec[s] = dp;
    this.qtyDec[s] = dq;
    this.prices.forget(s);
    return true;
  }

  /**
   * Hands every open kline and every held closed kline with version > since (-1: all) to `v`, changes in
   * version order when the change log covers `since`; returns how many.
   */
  protected visitChanged(since: number, v: KlineRowVisitor): number {
    let n = 0;
    const sd = this.slots.d;
    const cd = this.closed.rows.d;
    const log = this.log;
    if (since >= 0 && log.covers(since)) {
      for (let i = log.indexAfter(since); i < log.size; i++) {
        const ref = log.refAt(i);
        const version = log.versionAt(i);
        if (ref >= 0) {
          if (sd[ref * W + F.Has] === 1 && sd[ref * W + F.Version] === version) {
            this.visitRow(v, sd, ref, ref, false);
            n++;
          }
        } else {
          const r = ~ref;
          const slot = cd[r * W + F.Slot]!;
          if (slot >= 0 && cd[r * W + F.Version] === version) {
            this.visitRow(v, cd, r, slot, true);
            n++;
          }
        }
      }
      return n;
    }
    for (let j = 0; j < this.slots.capacity; j++) {
      if (sd[j * W + F.Has] === 1 && sd[j * W + F.Version]! > since) {
        this.visitRow(v, sd, j, j, false);
        n++;
      }
    }
    for (let r = 0; r < this.closed.highWater; r++) {
      const slot = cd[r * W + F.Slot]!;
      if (slot >= 0 && cd[r * W + F.Version]! > since) {
        this.visitRow(v, cd, r, slot, true);
        n++;
      }
    }
    return n;
  }

  private visitRow(v: KlineRowVisitor, d: Float64Array, row: number, slot: number, closed: boolean): void {
    const s = this.symbolOf(slot);
    const k = this.intervalOf(slot);
    const close = nextOpenTime(this.specs[k]!, d[row * W + F.OpenTime]!) - 1;
    v.row(d, row * W, s, k, close, this.priceDec[s]!, this.qtyDec[s]!, closed);
  }

  /** A visitor building the KlineRecords of `pull` (reusing price strings across a symbol's klines). */
  protected recordBuilder(out: KlineRecord[]): KlineRowVisitor {
    return new RecordBuilder(out, this.symbols, this.intervals, this.prices);
  }
}
