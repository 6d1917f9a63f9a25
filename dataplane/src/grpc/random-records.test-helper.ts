/**
 * Test support for the Pull codec tests: deterministic pseudo-random kline
 * records covering edge values (empty strings, zeros, -1 ids, versions up to
 * 2^53 - 1, empty and non-ASCII symbols, closed or not).
 */
import { INTERVALS, type KlineRecord } from "../core/types.js";

/** `n` records from `seed`: the same seed gives the same records. */
export function randomRecords(n: number, seed = 1): KlineRecord[] {
  let x = seed;
  const rnd = (m: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % m;
  };
  const dec = (): string => (rnd(5) === 0 ? "" : `${rnd(100000)}.${String(rnd(1e8)).padStart(8, "0")}`);
  const big = (): number =>
    [0, 1, 127, 128, 2 ** 31, 2 ** 49 - 1, 2 ** 52 + 7, Number.MAX_SAFE_INTEGER][rnd(8)]!;
  return Array.from({ length: n }, (_, i) => ({
    symbol: ["BTCUSDT", "币安人生USDT", "", `S${i}`][rnd(4)]!,
    interval: INTERVALS[rnd(16)]!,
    openTime: big(),
    closeTime: big(),
    open: dec(),
    high: dec(),
    low: dec(),
    close: dec(),
    volume: dec(),
    quoteVolume: dec() + "1234567",
    trades: big(),
    takerBuyVolume: dec(),
    takerBuyQuoteVolume: dec(),
    firstTradeId: rnd(3) === 0 ? -1 : big(),
    lastTradeId: rnd(3) === 0 ? -1 : big(),
    closed: rnd(2) === 0,
    version: big(),
  }));
}
