/**
 * Binance's 12-column kline dump format (data.binance.vision):
 * open_time, open, high, low, close, volume, close_time, quote_volume, count,
 * taker_buy_volume, taker_buy_quote_volume, ignore.
 *
 * Number formats, as in the official files of each market:
 * - spot: every price and volume with exactly 8 decimals ("61837.63000000").
 *   Quote volumes are exact with price + quantity decimals (16 on spot) and are
 *   cut to 8. Rounding mode: the official data in ../shared/data/binance cannot
 *   tell half-up, half-even and truncation apart, because every exact spot quote
 *   volume there has at most 7 decimals (BTCUSDT tick 0.01 x lot 0.00001); the
 *   correctness test checks that all three modes agree on it. We truncate (the
 *   result of fixed-point integer division, which exchange engines use), and
 *   the mode is a parameter.
 * - usdm, coinm: the input precision, unchanged ("61940.00", "890.639", quote
 *   volume with price + quantity decimals: "55058847.96410").
 */
import { toFixedDecimals, type RoundingMode } from "./decimal.js";
import type { KlineRecord } from "./types.js";

/** A Binance market, which decides the number format of its dump files. */
export type Market = "spot" | "usdm" | "coinm";

/** Decimals of every price and volume column in spot dump files. */
export const SPOT_DECIMALS = 8;

/** The rounding mode formatKlineCsvRow uses for spot quote volumes unless told otherwise. */
export const SPOT_ROUNDING: RoundingMode = "truncate";

/** The header row of USD-M and COIN-M dump files (spot files have none). */
export const KLINE_CSV_HEADER =
  "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";

/** One kline as a row of `market`'s official kline dump (no trailing newline). */
export function formatKlineCsvRow(
  k: KlineRecord,
  market: Market,
  rounding: RoundingMode = SPOT_ROUNDING,
): string {
  const f =
    market === "spot"
      ? (v: string): string => toFixedDecimals(v, SPOT_DECIMALS, rounding)
      : (v: string): string => v;
  return [
    k.openTime,
    f(k.open),
    f(k.high),
    f(k.low),
    f(k.close),
    f(k.volume),
    k.closeTime,
    f(k.quoteVolume),
    k.trades,
    f(k.takerBuyVolume),
    f(k.takerBuyQuoteVolume),
    0,
  ].join(",");
}
