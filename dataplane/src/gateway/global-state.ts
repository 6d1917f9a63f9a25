/**
 * The gateway's global state: one flat, columnar table of the newest kline of
 * every symbol x interval, updated in place from worker deltas.
 *
 * Slot index = symbol index x interval count + interval index. Numbers live in
 * typed arrays, decimal strings in preallocated string arrays (the strings are
 * the decoder's own, so storing them copies a pointer). Applying a kline
 * allocates nothing; the tick's changed slots are tracked in a bitmap plus a
 * list, reset after every tick.
 *
 * A slot holds one kline: the one with the highest open time. A kline with an
 * older open time (a late update of, or the close of, the previous period) does
 * not touch the slot; the tick forwards it to Kafka and the update message.
 */
import type { KlineRecord, Interval } from "../core/types.js";
import { ByteKeyIndex } from "./byte-key-index.js";
import type { RawKlines, WireKline } from "./ports.js";

/** Symbol and interval order of the table; fixed for the gateway's lifetime. */
export class StateLayout {
  readonly nIntervals: number;
  readonly slotCount: number;
  private readonly symbolIndex = new Map<string, number>();
  private readonly intervalIndex = new Map<string, number>();
  /** The same indexes keyed by UTF-8 bytes (raw klines). */
  readonly symbolBytes: ByteKeyIndex;
  readonly intervalBytes: ByteKeyIndex;

  constructor(
    readonly symbols: readonly string[],
    readonly intervals: readonly Interval[],
  ) {
    symbols.forEach((s, i) => this.symbolIndex.set(s, i));
    intervals.forEach((iv, i) => this.intervalIndex.set(iv, i));
    this.nIntervals = intervals.length;
    this.slotCount = symbols.length * intervals.length;
    this.symbolBytes = new ByteKeyIndex(symbols);
    this.intervalBytes = new ByteKeyIndex(intervals);
  }

  /** Index of `symbol`, or -1 when it is not in the layout. */
  symbolOf(symbol: string): number {
    return this.symbolIndex.get(symbol) ?? -1;
  }

  /** Index of `interval`, or -1 when it is not in the layout. */
  intervalOf(interval: string): number {
    return this.intervalIndex.get(interval) ?? -1;
  }
}

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

/** The columnar table plus the per-tick change tracking. */
export class GlobalState {
  readonly present: Uint8Array;
  readonly openTime: Float64Array;
  readonly closeTime: Float64Array;
  readonly trades: Float64Array;
  readonly firstTradeId: Float64Array;
  readonly lastTradeId: Float64Array;
  readonly version: Float64Array;
  readonly closed: Uint8Array;
  readonly open: string[];
  readonly high: string[];
  readonly low: string[];
  readonly close: string[];
  readonly volume: string[];
  readonly quoteVolume: string[];
  readonly takerBuyVolume: string[];
  readonly takerBuyQuoteVolume: string[];
  /** Index of the worker that last wrote each slot (-1: none). */
  readonly writer: Int16Array;
  /** Full-answer stamp of the last full answer that wrote each slot. */
  private readonly fullStamp: Uint32Array;

  /** 1 for slots changed in the current tick. */
  readonly changedFlag: Uint8Array;
  /** The changed slots of the current tick, `changedCount` of them, in first-change order. */
  readonly changedList: Int32Array;
  changedCount = 0;
  /** The wire kline whose values each changed slot holds (for this tick only; cleared by `endTick`). */
  readonly slotSrc: (WireKline | undefined)[];
  /**
   * For changed slots written from raw bytes instead: the answer (`srcRaw`) and the kline's
   * index in it (`srcIdx`). Cleared by `endTick`.
   */
  readonly srcRaw: (RawKlines | undefined)[];
  readonly srcIdx: Int32Array;
  /** 1 for slots last written from raw bytes: their decimal/number columns are not kept (see `read`). */
  readonly rawSlot: Uint8Array;
  /** Number of slots that hold a kline. */
  filled = 0;

  constructor(readonly layout: StateLayout) {
    const n = layout.slotCount;
    this.present = new Uint8Array(n);
    this.openTime = new Float64Array(n);
    this.closeTime = new Float64Array(n);
    this.trades = new Float64Array(n);
    this.firstTradeId = new Float64Array(n);
    this.lastTradeId = new Float64Array(n);
    this.version = new Float64Array(n);
    this.closed = new Uint8Array(n);
    const strings = (): string[] => new Array<string>(n).fill("");
    this.open = strings();
    this.high = strings();
    this.low = strings();
    this.close = strings();
    this.volume = strings();
    this.quoteVolume = strings();
    this.takerBuyVolume = strings();
    this.takerBuyQuoteVolume = strings();
    this.writer = new Int16Array(n).fill(-1);
    this.fullStamp = new Uint32Array(n);
    this.changedFlag = new Uint8Array(n);
    this.changedList = new Int32Array(n);
    this.slotSrc = new Array<WireKline | undefined>(n).fill(undefined);
    this.srcRaw = new Array<RawKlines | undefined>(n).fill(undefined);
    this.srcIdx = new Int32Array(n);
    this.rawSlot = new Uint8Array(n);
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
    if (outcome === ApplyOutcome.Applied) this.write(slot, k, openTime, worker);
    return outcome;
  }

  /** Slot of raw kline `i` of `raw` (looked up on its bytes), or -1 / -2 like `slotOf`. */
  slotOfRaw(raw: RawKlines, i: number): number {
    const buf = raw.chunks[raw.chunk[i]!]!;
    const s = this.layout.symbolBytes.get(buf, raw.symOff[i]!, raw.symLen[i]!);
    if (s < 0) return -1;
    const iv = this.layout.intervalBytes.get(buf, raw.ivOff[i]!, raw.ivLen[i]!);
    if (iv < 0) return -2;
    return s * this.layout.nIntervals + iv;
  }

  /** `apply` for kline `i` of a raw answer: same rules, no allocation, no decoding. */
  applyRaw(raw: RawKlines, i: number, worker: number, fullStamp: number): ApplyOutcome {
    const slot = this.slotOfRaw(raw, i);
    if (slot < 0) return slot === -1 ? ApplyOutcome.UnknownSymbol : ApplyOutcome.UnknownInterval;
    const openTime = raw.openTime[i]!;
    const version = raw.version[i]!;
    const outcome = this.admit(slot, openTime, version, worker, fullStamp);
    if (outcome !== ApplyOutcome.Applied) return outcome;
    if (this.present[slot] === 0) {
      this.present[slot] = 1;
      this.filled++;
    }
    this.openTime[slot] = openTime;
    this.version[slot] = version;
    this.closed[slot] = raw.closed[i]!;
    this.writer[slot] = worker;
    this.rawSlot[slot] = 1;
    this.slotSrc[slot] = undefined;
    this.srcRaw[slot] = raw;
    this.srcIdx[slot] = i;
    this.markChanged(slot);
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
    if (fullStamp !== 0 && this.fullStamp[slot] !== fullStamp) {
      this.fullStamp[slot] = fullStamp;
    } else if (this.present[slot] === 1) {
      const cur = this.openTime[slot]!;
      if (openTime < cur) return ApplyOutcome.Older;
      if (openTime === cur && version <= this.version[slot]! && this.writer[slot] === worker) {
        return ApplyOutcome.Stale;
      }
    }
    return ApplyOutcome.Applied;
  }

  private markChanged(slot: number): void {
    if (this.changedFlag[slot] === 0) {
      this.changedFlag[slot] = 1;
      this.changedList[this.changedCount++] = slot;
    }
  }

  private write(slot: number, k: WireKline, openTime: number, worker: number): void {
    if (this.present[slot] === 0) {
      this.present[slot] = 1;
      this.filled++;
    }
    this.openTime[slot] = openTime;
    this.closeTime[slot] = Number(k.closeTime);
    this.trades[slot] = Number(k.trades);
    this.firstTradeId[slot] = Number(k.firstTradeId);
    this.lastTradeId[slot] = Number(k.lastTradeId);
    this.version[slot] = Number(k.version);
    this.closed[slot] = k.closed ? 1 : 0;
    this.open[slot] = k.open;
    this.high[slot] = k.high;
    this.low[slot] = k.low;
    this.close[slot] = k.close;
    this.volume[slot] = k.volume;
    this.quoteVolume[slot] = k.quoteVolume;
    this.takerBuyVolume[slot] = k.takerBuyVolume;
    this.takerBuyQuoteVolume[slot] = k.takerBuyQuoteVolume;
    this.writer[slot] = worker;
    this.rawSlot[slot] = 0;
    this.slotSrc[slot] = k;
    this.srcRaw[slot] = undefined;
    this.markChanged(slot);
  }

  /** Clears the tick's change tracking. */
  endTick(): void {
    for (let i = 0; i < this.changedCount; i++) {
      const slot = this.changedList[i]!;
      this.changedFlag[slot] = 0;
      this.slotSrc[slot] = undefined;
      this.srcRaw[slot] = undefined;
    }
    this.changedCount = 0;
  }

  /**
   * The kline in `slot` as a record (allocates; for readers and tests, not the tick).
   * Undefined for an empty slot and for a slot written from raw bytes (the state keeps only
   * their keys; their bytes are in the published snapshot).
   */
  read(slot: number): KlineRecord | undefined {
    if (this.present[slot] !== 1 || this.rawSlot[slot] === 1) return undefined;
    const sym = Math.floor(slot / this.layout.nIntervals);
    return {
      symbol: this.layout.symbols[sym]!,
      interval: this.layout.intervals[slot % this.layout.nIntervals]!,
      openTime: this.openTime[slot]!,
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
      closed: this.closed[slot] === 1,
      version: this.version[slot]!,
    };
  }
}
