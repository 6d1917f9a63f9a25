/**
 * The gateway's global state: one flat, columnar table of the newest kline of
 * every symbol x interval, updated in place from worker deltas.
 *
 * Slot index = symbol index x interval count + interval index. Numbers live in
 * typed arrays, decimal strings in preallocated string arrays (the strings are
 * the decoder's own, so storing them copies a pointer). Applying a kline
 * allocates nothing; the tick's changed slots are tracked in a slot-indexed
 * array plus a list, reset after every tick.
 *
 * A slot holds one kline: the one with the highest open time. A kline with an
 * older open time (a late update of, or the close of, the previous period) does
 * not touch the slot; the tick forwards it to Kafka and the update message.
 */
import type { KlineRecord } from "../core/types.js";
import type { RawKlines, WireKline } from "./ports.js";
import { viewOf } from "./byte-key-index.js";
import { StateLayout } from "./state-layout.js";
import { NO_SYMBOL_REFS } from "./symbol-refs.js";

// The layout was defined here first; its users import it from either module.
export { StateLayout } from "./state-layout.js";

/** What applying one kline did. */
export const enum ApplyOutcome {
  /** The slot now holds this kline. */
  Applied = 0,
  /** The slot holds a newer period; the kline is older (forward it, do not store it). */
  Older = 1,
  /** Same period, not newer than the slot (a repeat). */
  Stale = 2,
  UnknownSymbol = 3,
  UnknownInterval = 4,
}

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = viewOf(EMPTY);

/** Bits of a slot's flags word (the writer's index + 1 is stored above bit 8). */
const PRESENT = 1;
const CLOSED = 2;
const RAW = 4;
/**
 * A slot's record: 64 bytes, one cache line. Float64 fields (index 8 * slot + f). The second half
 * (int32 index 16 * slot + 8 and on) is the snapshot layout's (`SLOT_TABLE_BASE`).
 */
const OPEN_TIME = 0;
const VERSION = 1;
/** Int32 fields of the same record (index 16 * slot + f). */
const FLAGS = 4;
const FULL_STAMP = 5;
/** 1 + the slot's index in this tick's changes, 0 when it did not change. */
const CHANGE = 6;
/** Int32 stride of a record, and where the snapshot layout's fields start in it (see `SlotTable`). */
export const SLOT_RECORD_INTS = 16;
export const SLOT_TABLE_BASE = 8;

/**
 * The columnar table plus the per-tick change tracking.
 *
 * What admitting and applying a kline reads and writes of its slot (open time, version, flags, writer,
 * full-answer stamp, change index) is one 64-byte record, shared with the snapshot layout (the slot's
 * byte range in the snapshot), and what the tick needs of each changed slot
 * is kept per change, in change order: a tick touches one cache line of the table per kline instead of
 * one per column, which matters when the changes are spread over the whole table.
 */
export class GlobalState {
  /** The slots' records, as doubles (open time, version) and as int32 (flags, stamp, change, layout). */
  private readonly recF: Float64Array;
  /** The same records as int32; the snapshot layout keeps its per-slot fields in them (`SLOT_TABLE_BASE`). */
  readonly recI: Int32Array;
  /** Fields kept only for slots written from kline objects (`read`, and encoding them once per change). */
  readonly closeTime: Float64Array;
  readonly trades: Float64Array;
  readonly firstTradeId: Float64Array;
  readonly lastTradeId: Float64Array;
  readonly open: string[];
  readonly high: string[];
  readonly low: string[];
  readonly close: string[];
  readonly volume: string[];
  readonly quoteVolume: string[];
  readonly takerBuyVolume: string[];
  readonly takerBuyQuoteVolume: string[];

  /** The changed slots of the current tick, `changedCount` of them, in first-change order. */
  readonly changedList: Int32Array;
  changedCount = 0;
  /**
   * Per change (same index as `changedList`): for a slot written from raw bytes, the number of its
   * answer in this tick (`rawAnswer`) and its index in it (`changeRawIdx`); -1 and the kline object
   * (`changeKline`) for a slot written from an object. Numbers, not references, on the raw path: a
   * reference stored per kline costs a GC write barrier, twice (store, clear). Valid for the tick only.
   */
  readonly changeAnswer: Int32Array;
  readonly changeRawIdx: Int32Array;
  readonly changeKline: (WireKline | undefined)[];
  /** The raw answers of this tick, by number. */
  private readonly answers: RawKlines[] = [];
  /** Changes written from kline objects this tick (their references are cleared by `endTick`). */
  private objectChanges = 0;
  readonly changeWriter: Int32Array;
  readonly changeClosed: Uint8Array;
  /** Number of slots that hold a kline. */
  filled = 0;
  /** Raw klines whose symbol ref named another layout symbol than their bytes (ever; see `slotOfRaw`). */
  refMisses = 0;
  /** The last symbol looked up by its bytes (`slotOfRaw`), and where those bytes were. */
  private lastSymBuf: Uint8Array = EMPTY;
  private lastSymOff = 0;
  private lastSymLen = -1;
  private lastSym = -1;
  /** A view of the chunk the last raw kline was in (its words are read for lookups). */
  private viewBuf: Uint8Array = EMPTY;
  private view = EMPTY_VIEW;

  constructor(readonly layout: StateLayout) {
    const n = layout.slotCount;
    const rec = new ArrayBuffer(4 * SLOT_RECORD_INTS * n);
    this.recF = new Float64Array(rec);
    this.recI = new Int32Array(rec);
    this.closeTime = new Float64Array(n);
    this.trades = new Float64Array(n);
    this.firstTradeId = new Float64Array(n);
    this.lastTradeId = new Float64Array(n);
    const strings = (): string[] => new Array<string>(n).fill("");
    this.open = strings();
    this.high = strings();
    this.low = strings();
    this.close = strings();
    this.volume = strings();
    this.quoteVolume = strings();
    this.takerBuyVolume = strings();
    this.takerBuyQuoteVolume = strings();
    this.changedList = new Int32Array(n);
    this.changeAnswer = new Int32Array(n);
    this.changeRawIdx = new Int32Array(n);
    this.changeKline = new Array<WireKline | undefined>(n).fill(undefined);
    this.changeWriter = new Int32Array(n);
    this.changeClosed = new Uint8Array(n);
  }

  /** Slot of a kline, or -1 (unknown symbol) / -2 (unknown interval). */
  slotOf(symbol: string, interval: string): number {
    const s = this.layout.symbolOf(symbol);
    if (s < 0) return -1;
    const i = this.layout.intervalOf(interval);
    if (i < 0) return -2;
    return s * this.layout.nIntervals + i;
  }

  /**
   * Applies one kline from worker `worker`. `fullStamp` is non-zero while
   * applying a full answer (a new worker epoch): the answer's first kline for
   * a slot replaces it unconditionally, since the restarted worker's view
   * supersedes whatever the slot held.
   */
  apply(k: WireKline, worker: number, fullStamp: number): ApplyOutcome {
    const slot = this.slotOf(k.symbol, k.interval);
    if (slot < 0) return slot === -1 ? ApplyOutcome.UnknownSymbol : ApplyOutcome.UnknownInterval;
    const openTime = Number(k.openTime);
    const outcome = this.admit(slot, openTime, Number(k.version), worker, fullStamp);
    if (outcome !== ApplyOutcome.Applied) return outcome;
    this.closeTime[slot] = Number(k.closeTime);
    this.trades[slot] = Number(k.trades);
    this.firstTradeId[slot] = Number(k.firstTradeId);
    this.lastTradeId[slot] = Number(k.lastTradeId);
    this.open[slot] = k.open;
    this.high[slot] = k.high;
    this.low[slot] = k.low;
    this.close[slot] = k.close;
    this.volume[slot] = k.volume;
    this.quoteVolume[slot] = k.quoteVolume;
    this.takerBuyVolume[slot] = k.takerBuyVolume;
    this.takerBuyQuoteVolume[slot] = k.takerBuyQuoteVolume;
    const c = this.store(slot, openTime, Number(k.version), k.closed, worker, 0);
    this.changeKline[c] = k;
    this.changeAnswer[c] = -1;
    this.objectChanges++;
    return ApplyOutcome.Applied;
  }

  /**
   * Slot of raw kline `i` of `raw`, or -1 / -2 like `slotOf`. Its symbol is the one its ref names in
   * `refs` (the answer's `SymbolRefMaps` map) when the symbol bytes confirm it, else looked up on its bytes.
   */
  slotOfRaw(raw: RawKlines, i: number, refs: Int32Array = NO_SYMBOL_REFS): number {
    const buf = raw.chunks[raw.chunk[i]!]!;
    const off = raw.symOff[i]!;
    const len = raw.symLen[i]!;
    if (buf !== this.viewBuf) {
      this.viewBuf = buf;
      this.view = viewOf(buf);
    }
    const ref = raw.symRef[i]!;
    const named = ref >= 0 && ref < refs.length ? refs[ref]! : -1;
    let s: number;
    if (named >= 0 && this.layout.symbolBytes.isKeyIn(this.view, off, len, named)) {
      s = named; // the worker's ref, confirmed: no lookup
    } else {
      if (named >= 0) this.refMisses++;
      s = this.symbolOfBytes(buf, off, len);
    }
    if (s < 0) return -1;
    const iv = this.layout.intervalBytes.getIn(this.view, raw.ivOff[i]!, raw.ivLen[i]!);
    if (iv < 0) return -2;
    return s * this.layout.nIntervals + iv;
  }

  /** The layout index of the symbol in `buf[off, off + len)` (`view` is `buf`'s), or -1. */
  private symbolOfBytes(buf: Uint8Array, off: number, len: number): number {
    // Workers answer a symbol's klines one after the other: most lookups are the previous symbol's.
    if (len === this.lastSymLen && sameBytes(buf, off, this.lastSymBuf, this.lastSymOff, len))
      return this.lastSym;
    const s = this.layout.symbolBytes.getIn(this.view, off, len);
    this.lastSymBuf = buf;
    this.lastSymOff = off;
    this.lastSymLen = len;
    this.lastSym = s;
    return s;
  }

  /**
   * Reads the records of `slots[0, n)` (negative: skipped) so that they are cached when the klines are
   * applied (a prefetch; see `applyResults`). Returns the words read, xored, for the caller to keep.
   */
  touchRecords(slots: Int32Array, n: number): number {
    const ri = this.recI;
    let x = 0;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      if (s >= 0) x ^= ri[16 * s]!;
    }
    return x;
  }

  /**
   * `apply` for kline `i` of a raw answer, in its slot as `slotOfRaw` found it (-1 / -2: unknown symbol /
   * interval): same rules, no allocation, no decoding.
   */
  applyRaw(raw: RawKlines, i: number, slot: number, worker: number, fullStamp: number): ApplyOutcome {
    if (slot < 0) return slot === -1 ? ApplyOutcome.UnknownSymbol : ApplyOutcome.UnknownInterval;
    const openTime = raw.openTime[i]!;
    const version = raw.version[i]!;
    const outcome = this.admit(slot, openTime, version, worker, fullStamp);
    if (outcome !== ApplyOutcome.Applied) return outcome;
    const c = this.store(slot, openTime, version, raw.closed[i] === 1, worker, RAW);
    this.changeAnswer[c] = this.answerNumber(raw);
    this.changeRawIdx[c] = i;
    return ApplyOutcome.Applied;
  }

  /** Whether a kline with these keys replaces the slot (Applied), or why not. */
  private admit(
    slot: number,
    openTime: number,
    version: number,
    worker: number,
    fullStamp: number,
  ): ApplyOutcome {
    const ri = this.recI;
    if (fullStamp !== 0 && ri[16 * slot + FULL_STAMP] !== fullStamp) {
      ri[16 * slot + FULL_STAMP] = fullStamp;
    } else {
      const f = ri[16 * slot + FLAGS]!;
      if ((f & PRESENT) !== 0) {
        const cur = this.recF[8 * slot + OPEN_TIME]!;
        if (openTime < cur) return ApplyOutcome.Older;
        if (openTime === cur && version <= this.recF[8 * slot + VERSION]! && f >> 8 === worker + 1) {
          return ApplyOutcome.Stale;
        }
      }
    }
    return ApplyOutcome.Applied;
  }

  /** Stores an admitted kline's keys and marks the slot changed; returns its change index. */
  private store(
    slot: number,
    openTime: number,
    version: number,
    closed: boolean,
    worker: number,
    raw: number,
  ): number {
    const ri = this.recI;
    if ((ri[16 * slot + FLAGS]! & PRESENT) === 0) this.filled++;
    ri[16 * slot + FLAGS] = PRESENT | (closed ? CLOSED : 0) | raw | ((worker + 1) << 8);
    this.recF[8 * slot + OPEN_TIME] = openTime;
    this.recF[8 * slot + VERSION] = version;
    let c = ri[16 * slot + CHANGE]! - 1;
    if (c < 0) {
      c = this.changedCount++;
      ri[16 * slot + CHANGE] = c + 1;
      this.changedList[c] = slot;
    }
    this.changeWriter[c] = worker;
    this.changeClosed[c] = closed ? 1 : 0;
    return c;
  }

  /** 1 + the index of `slot` in this tick's changes, 0 when it did not change this tick. */
  changeOf(slot: number): number {
    return this.recI[16 * slot + CHANGE]!;
  }

  /** Whether `slot` changed this tick to exactly this kline object. */
  holdsKline(slot: number, k: WireKline): boolean {
    const c = this.changeOf(slot) - 1;
    return c >= 0 && this.changeAnswer[c] === -1 && this.changeKline[c] === k;
  }

  /** Whether `slot` changed this tick to exactly raw kline `i` of `raw`. */
  holdsRaw(slot: number, raw: RawKlines, i: number): boolean {
    const c = this.changeOf(slot) - 1;
    return c >= 0 && this.rawOf(c) === raw && this.changeRawIdx[c] === i;
  }

  /** The raw answer change `c` was written from (undefined: from a kline object, `changeKline[c]`). */
  rawOf(c: number): RawKlines | undefined {
    const a = this.changeAnswer[c]!;
    return a < 0 ? undefined : this.answers[a];
  }

  /** The number of `raw` among this tick's answers (answers come one after the other: the last one mostly). */
  private answerNumber(raw: RawKlines): number {
    const n = this.answers.length;
    if (n > 0 && this.answers[n - 1] === raw) return n - 1;
    const i = this.answers.indexOf(raw);
    if (i >= 0) return i;
    this.answers.push(raw);
    return n;
  }

  /** Clears the tick's change tracking (and drops its references to the tick's answers). */
  endTick(): void {
    for (let c = 0; c < this.changedCount; c++) this.recI[16 * this.changedList[c]! + CHANGE] = 0;
    if (this.objectChanges > 0) {
      for (let c = 0; c < this.changedCount; c++) this.changeKline[c] = undefined;
      this.objectChanges = 0;
    }
    this.changedCount = 0;
    this.answers.length = 0;
    // The tick's answers are garbage from now on: keep no chunk alive.
    this.lastSymBuf = EMPTY;
    this.lastSymLen = -1;
    this.viewBuf = EMPTY;
    this.view = EMPTY_VIEW;
  }

  /**
   * The kline in `slot` as a record (allocates; for readers and tests, not the tick).
   * Undefined for an empty slot and for a slot written from raw bytes (the state keeps only
   * their keys; their bytes are in the published snapshot).
   */
  read(slot: number): KlineRecord | undefined {
    const f = this.recI[16 * slot + FLAGS]!;
    if ((f & PRESENT) === 0 || (f & RAW) !== 0) return undefined;
    const sym = Math.floor(slot / this.layout.nIntervals);
    return {
      symbol: this.layout.symbols[sym]!,
      interval: this.layout.intervals[slot % this.layout.nIntervals]!,
      openTime: this.recF[8 * slot + OPEN_TIME]!,
      closeTime: this.closeTime[slot]!,
      open: this.open[slot]!,
      high: this.high[slot]!,
      low: this.low[slot]!,
      close: this.close[slot]!,
      volume: this.volume[slot]!,
      quoteVolume: this.quoteVolume[slot]!,
      trades: this.trades[slot]!,
      takerBuyVolume: this.takerBuyVolume[slot]!,
      takerBuyQuoteVolume: this.takerBuyQuoteVolume[slot]!,
      firstTradeId: this.firstTradeId[slot]!,
      lastTradeId: this.lastTradeId[slot]!,
      closed: (f & CLOSED) !== 0,
      version: this.recF[8 * slot + VERSION]!,
    };
  }
}

/** Whether `a[ao, ao + len)` and `b[bo, bo + len)` hold the same bytes. */
function sameBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
