/**
 * Conversion of a kline table row to the interchange form (`KlineRecord`):
 * exact decimal strings with the symbol's decimals (prices: price decimals,
 * volumes: quantity decimals, quote volumes: both added).
 */
import { exactToString, scaledToString } from "./decimal.js";
import { F, W, type KlineTable } from "./kline-table.js";
import type { Interval, KlineRecord } from "./types.js";

/** Builds the record of row i of `t`. */
export function rowToRecord(
  t: KlineTable,
  i: number,
  symbol: string,
  interval: Interval,
  closeTime: number,
  priceDecimals: number,
  qtyDecimals: number,
  closed: boolean,
): KlineRecord {
  const d = t.d;
  const b = i * W;
  const dp = priceDecimals;
  const dq = qtyDecimals;
  return {
    symbol,
    interval,
    openTime: d[b + F.OpenTime]!,
    closeTime,
    open: scaledToString(d[b + F.Open]!, dp),
    high: scaledToString(d[b + F.High]!, dp),
    low: scaledToString(d[b + F.Low]!, dp),
    close: scaledToString(d[b + F.Close]!, dp),
    volume: exactToString(d[b + F.VolHi]!, d[b + F.VolLo]!, dq),
    quoteVolume: exactToString(d[b + F.QuoteHi]!, d[b + F.QuoteLo]!, dp + dq),
    trades: d[b + F.Count]!,
    takerBuyVolume: exactToString(d[b + F.TakerVolHi]!, d[b + F.TakerVolLo]!, dq),
    takerBuyQuoteVolume: exactToString(d[b + F.TakerQuoteHi]!, d[b + F.TakerQuoteLo]!, dp + dq),
    firstTradeId: d[b + F.FirstId]!,
    lastTradeId: d[b + F.LastId]!,
    closed,
    version: d[b + F.Version]!,
  };
}
