/**
 * Row-major storage of kline state: one Float64Array, one row of `W` numbers
 * per kline (a trade or a merge touches 2-3 cache lines, not one per field).
 * The engine uses three tables with this layout: the pending accumulators, the
 * live slots (symbol x interval) and the store of closed klines. No objects
 * per kline, no allocation per trade.
 *
 * Prices are scaled integers (see decimal.ts); sums are exact (hi, lo) pairs.
 * A row with COUNT === 0 has no trades: an empty kline (o = h = l = c = the
 * previous close, ids -1) or an unused accumulator.
 */
import { addExact } from "./decimal.js";

/** Field offsets inside a row. */
export const enum F {
  OpenTime = 0,
  Open = 1,
  High = 2,
  Low = 3,
  Close = 4,
  /** firstId of the trade that set Open (open = earliest trade by id). */
  OpenId = 5,
  /** lastId of the trade that set Close (close = latest trade by id). */
  CloseId = 6,
  VolHi = 7,
  VolLo = 8,
  QuoteHi = 9,
  QuoteLo = 10,
  TakerVolHi = 11,
  TakerVolLo = 12,
  TakerQuoteHi = 13,
  TakerQuoteLo = 14,
  Count = 15,
  FirstId = 16,
  LastId = 17,
  Version = 18,
  /** Closed store only: the slot (symbol x interval) of the row, -1 when free. */
  Slot = 19,
  /** Closed store only: the row of the same slot with the next older / newer open time, -1 if none. */
  Older = 20,
  Newer = 21,
  /** Live slot rows only (same positions as the closed-store fields): 1 when the slot holds a kline. */
  // eslint-disable-next-line @typescript-eslint/no-duplicate-enum-values -- slot rows reuse Slot's place
  Has = 19,
  /** Live slot rows only: the open time after the slot's latest kline (0: it never had one). */
  // eslint-disable-next-line @typescript-eslint/no-duplicate-enum-values -- slot rows reuse Older's place
  Next = 20,
}

/** Numbers per row. */
export const W = 22;

/** A growable table of kline rows. */
export class KlineTable {
  capacity: number;
  d: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.d = new Float64Array(capacity * W);
  }

  /** Grows to at least `min` rows, keeping the contents. */
  grow(min: number): void {
    if (min <= this.capacity) return;
    const cap = Math.max(min, this.capacity * 2, 64);
    const d = new Float64Array(cap * W);
    d.set(this.d);
    this.d = d;
    this.capacity = cap;
  }

  /** Makes row i an empty kline (no trades) at `openTime` whose prices are `price`. */
  setEmpty(i: number, openTime: number, price: number): void {
    const d = this.d;
    const o = i * W;
    d[o + F.OpenTime] = openTime;
    d[o + F.Open] = price;
    d[o + F.High] = price;
    d[o + F.Low] = price;
    d[o + F.Close] = price;
    d[o + F.OpenId] = -1;
    d[o + F.CloseId] = -1;
    d.fill(0, o + F.VolHi, o + F.Count + 1);
    d[o + F.FirstId] = -1;
    d[o + F.LastId] = -1;
  }

  /** Copies the kline fields (OpenTime..Version) of row i of `src` to row j of this table. */
  copyRow(j: number, src: KlineTable, i: number): void {
    const s = src.d;
    const d = this.d;
    const a = i * W;
    const b = j * W;
    for (let f = 0; f <= F.Version; f++) d[b + f] = s[a + f]!;
  }

  /**
   * Adds one trade to row i: price p and quantity q (scaled integers), quote
   * ph + pl = p * q exactly, trade ids first..last.
   */
  addTrade(
    i: number,
    p: number,
    q: number,
    ph: number,
    pl: number,
    first: number,
    last: number,
    takerBuy: boolean,
  ): void {
    const d = this.d;
    const o = i * W;
    const n = d[o + F.Count]!;
    if (n === 0) {
      d[o + F.Open] = p;
      d[o + F.High] = p;
      d[o + F.Low] = p;
      d[o + F.Close] = p;
      d[o + F.OpenId] = first;
      d[o + F.CloseId] = last;
      d[o + F.FirstId] = first;
      d[o + F.LastId] = last;
      d[o + F.VolHi] = q;
      d[o + F.VolLo] = 0;
      d[o + F.QuoteHi] = ph;
      d[o + F.QuoteLo] = pl;
      d[o + F.TakerVolHi] = takerBuy ? q : 0;
      d[o + F.TakerVolLo] = 0;
      d[o + F.TakerQuoteHi] = takerBuy ? ph : 0;
      d[o + F.TakerQuoteLo] = takerBuy ? pl : 0;
      d[o + F.Count] = last - first + 1;
      return;
    }
    if (first < d[o + F.OpenId]!) {
      d[o + F.Open] = p;
      d[o + F.OpenId] = first;
    }
    if (last > d[o + F.CloseId]!) {
      d[o + F.Close] = p;
      d[o + F.CloseId] = last;
    }
    if (p > d[o + F.High]!) d[o + F.High] = p;
    if (p < d[o + F.Low]!) d[o + F.Low] = p;
    if (first < d[o + F.FirstId]!) d[o + F.FirstId] = first;
    if (last > d[o + F.LastId]!) d[o + F.LastId] = last;
    addExact(d, o + F.VolHi, q, 0);
    addExact(d, o + F.QuoteHi, ph, pl);
    if (takerBuy) {
      addExact(d, o + F.TakerVolHi, q, 0);
      addExact(d, o + F.TakerQuoteHi, ph, pl);
    }
    d[o + F.Count] = n + last - first + 1;
  }

  /**
   * Merges the trades of row i of `src` into row j (same kline), keeping
   * open/close by trade id, so merge order does not matter. Returns false when
   * `src` has no trades. Does not touch OpenTime or Version.
   */
  mergeRow(j: number, src: KlineTable, i: number): boolean {
    const s = src.d;
    const a = i * W;
    const n = s[a + F.Count]!;
    if (n === 0) return false;
    const d = this.d;
    const o = j * W;
    if (d[o + F.Count] === 0) {
      d[o + F.Open] = s[a + F.Open]!;
      d[o + F.High] = s[a + F.High]!;
      d[o + F.Low] = s[a + F.Low]!;
      d[o + F.Close] = s[a + F.Close]!;
      d[o + F.OpenId] = s[a + F.OpenId]!;
      d[o + F.CloseId] = s[a + F.CloseId]!;
      d[o + F.FirstId] = s[a + F.FirstId]!;
      d[o + F.LastId] = s[a + F.LastId]!;
    } else {
      if (s[a + F.OpenId]! < d[o + F.OpenId]!) {
        d[o + F.Open] = s[a + F.Open]!;
        d[o + F.OpenId] = s[a + F.OpenId]!;
      }
      if (s[a + F.CloseId]! > d[o + F.CloseId]!) {
        d[o + F.Close] = s[a + F.Close]!;
        d[o + F.CloseId] = s[a + F.CloseId]!;
      }
      if (s[a + F.High]! > d[o + F.High]!) d[o + F.High] = s[a + F.High]!;
      if (s[a + F.Low]! < d[o + F.Low]!) d[o + F.Low] = s[a + F.Low]!;
      if (s[a + F.FirstId]! < d[o + F.FirstId]!) d[o + F.FirstId] = s[a + F.FirstId]!;
      if (s[a + F.LastId]! > d[o + F.LastId]!) d[o + F.LastId] = s[a + F.LastId]!;
    }
    addExact(d, o + F.VolHi, s[a + F.VolHi]!, s[a + F.VolLo]!);
    addExact(d, o + F.QuoteHi, s[a + F.QuoteHi]!, s[a + F.QuoteLo]!);
    addExact(d, o + F.TakerVolHi, s[a + F.TakerVolHi]!, s[a + F.TakerVolLo]!);
    addExact(d, o + F.TakerQuoteHi, s[a + F.TakerQuoteHi]!, s[a + F.TakerQuoteLo]!);
    d[o + F.Count] = d[o + F.Count]! + n;
    return true;
  }
}
