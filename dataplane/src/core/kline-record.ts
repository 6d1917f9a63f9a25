/**
 * Conversion of a kline table row to the interchange form (`KlineRecord`):
 * exact decimal strings with the symbol's decimals (prices: price decimals,
 * volumes: quantity decimals, quote volumes: both added).
 */
import { exactToString, scaledToString } from "./decimal.js";
import type { KlineRowVisitor } from "./engine-api.js";
import { F } from "./kline-table.js";
import type { Interval, KlineRecord } from "./types.js";

/**
 * Price strings recently built per symbol, so a pull formats each distinct
 * price once: the 16 klines of a symbol share their close (the last trade)
 * and often their open, high and low. A few entries per symbol, replaced
 * round robin; `forget` when a symbol's decimals change.
 */
export class PriceStrings {
  private static readonly WAYS = 4;
  private readonly values: Float64Array;
  private readonly strings: string[];
  private readonly next: Uint8Array;

  constructor(symbols: number) {
    this.values = new Float64Array(symbols * PriceStrings.WAYS).fill(-1);
    this.strings = new Array<string>(symbols * PriceStrings.WAYS).fill("");
    this.next = new Uint8Array(symbols);
  }

  /** Price v (scaled, `decimals` decimals) of symbol s as a decimal string. */
  get(s: number, v: number, decimals: number): string {
    const base = s * PriceStrings.WAYS;
    const values = this.values;
    for (let i = base; i < base + PriceStrings.WAYS; i++) if (values[i] === v) return this.strings[i]!;
    const str = scaledToString(v, decimals);
    const n = this.next[s]!;
    this.next[s] = (n + 1) % PriceStrings.WAYS;
    values[base + n] = v;
    this.strings[base + n] = str;
    return str;
  }

  /** Forgets symbol s's strings (its decimals changed). */
  forget(s: number): void {
    this.values.fill(-1, s * PriceStrings.WAYS, (s + 1) * PriceStrings.WAYS);
  }
}

/** A pull visitor that builds one KlineRecord per row into `out`. */
export class RecordBuilder implements KlineRowVisitor {
  constructor(
    private readonly out: KlineRecord[],
    private readonly symbols: readonly string[],
    private readonly intervals: readonly Interval[],
    private readonly prices: PriceStrings,
  ) {}

  row(
    d: Float64Array,
    b: number,
    s: number,
    k: number,
    closeTime: number,
    dp: number,
    dq: number,
    closed: boolean,
  ): void {
    const prices = this.prices;
    this.out.push({
      symbol: this.symbols[s]!,
      interval: this.intervals[k]!,
      openTime: d[b + F.OpenTime]!,
      closeTime,
      open: prices.get(s, d[b + F.Open]!, dp),
      high: prices.get(s, d[b + F.High]!, dp),
      low: prices.get(s, d[b + F.Low]!, dp),
      close: prices.get(s, d[b + F.Close]!, dp),
      volume: exactToString(d[b + F.VolHi]!, d[b + F.VolLo]!, dq),
      quoteVolume: exactToString(d[b + F.QuoteHi]!, d[b + F.QuoteLo]!, dp + dq),
      trades: d[b + F.Count]!,
      takerBuyVolume: exactToString(d[b + F.TakerVolHi]!, d[b + F.TakerVolLo]!, dq),
      takerBuyQuoteVolume: exactToString(d[b + F.TakerQuoteHi]!, d[b + F.TakerQuoteLo]!, dp + dq),
      firstTradeId: d[b + F.FirstId]!,
      lastTradeId: d[b + F.LastId]!,
      closed,
      version: d[b + F.Version]!,
    });
  }
}
