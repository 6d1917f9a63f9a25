/**
 * The synthetic market of the aggregation bench, in the three forms the bench
 * feeds: parsed columns (what `KlineEngine.ingestParsed` takes), Binance-style
 * trades with decimal strings (`ingest`), and tardis-dev's normalized trades.
 *
 * Trade mix: 2,000 symbols, each trade's symbol drawn uniformly at random (no
 * bursts of one symbol: the worst case for caches), 5 trades per symbol per
 * second on average (10,000 trades/s exchange-wide, so a symbol's 1 s bucket
 * changes every ~5 trades, as on a busy real market), prices a random walk of
 * ticks with 2..8 decimals, quantities with 0..8 decimals, raw trades
 * (firstId === lastId), half taker buys.
 */
import type { Trade as TardisTrade } from "tardis-dev";
import type { RawTrade } from "../src/core/types.js";
import { rng } from "./rng.js";

export const SYMBOLS = 2000;
/** Exchange-wide trade rate: 5 trades per symbol per second. */
export const TRADES_PER_SECOND = SYMBOLS * 5;
const START = Date.UTC(2024, 7, 8, 23, 0, 0);

/** The market's trades parsed to exact scaled integers, column by column. */
export interface Market {
  readonly symbols: string[];
  readonly length: number;
  readonly symbol: Int32Array;
  readonly time: Float64Array;
  /** Price units at `priceDec` decimals (the digits without the point). */
  readonly price: Float64Array;
  readonly priceDec: Int8Array;
  readonly qty: Float64Array;
  readonly qtyDec: Int8Array;
  readonly id: Float64Array;
  readonly buyerMaker: Uint8Array;
}

/** Symbols with prices from 0.0001 to 100,000 and 2..8 price decimals; a random walk of ticks. */
export function makeMarket(trades: number): Market {
  const r = rng(42);
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYM${i}USDT`);
  const priceDec = symbols.map(() => 2 + Math.floor(r() * 7));
  const qtyDec = symbols.map(() => Math.floor(r() * 9));
  const price = symbols.map((_, i) => Math.round(10 ** (-4 + r() * 9) * 10 ** priceDec[i]!) + 100);
  const nextId = symbols.map(() => 1_000_000 + Math.floor(r() * 1e9));
  const m: Market = {
    symbols,
    length: trades,
    symbol: new Int32Array(trades),
    time: new Float64Array(trades),
    price: new Float64Array(trades),
    priceDec: new Int8Array(trades),
    qty: new Float64Array(trades),
    qtyDec: new Int8Array(trades),
    id: new Float64Array(trades),
    buyerMaker: new Uint8Array(trades),
  };
  for (let n = 0; n < trades; n++) {
    const s = Math.floor(r() * SYMBOLS);
    const step = Math.floor(r() * 5) - 2;
    price[s] = Math.max(1, price[s]! + step);
    m.symbol[n] = s;
    m.id[n] = nextId[s]!++;
    m.price[n] = price[s]!;
    m.priceDec[n] = priceDec[s]!;
    m.qty[n] = 1 + Math.floor(r() * 10 ** (qtyDec[s]! + 1));
    m.qtyDec[n] = qtyDec[s]!;
    m.time[n] = START + Math.floor((n * 1000) / TRADES_PER_SECOND);
    m.buyerMaker[n] = r() < 0.5 ? 1 : 0;
  }
  return m;
}

function decimalString(units: number, decimals: number): string {
  const s = String(units).padStart(decimals + 1, "0");
  return decimals === 0 ? s : `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
}

/** The trades as a Binance source hands them over: decimal strings exactly as the exchange sends them. */
export function rawTrades(m: Market): RawTrade[] {
  const out = new Array<RawTrade>(m.length);
  for (let n = 0; n < m.length; n++) {
    out[n] = {
      symbol: m.symbols[m.symbol[n]!]!,
      firstId: m.id[n]!,
      lastId: m.id[n]!,
      price: decimalString(m.price[n]!, m.priceDec[n]!),
      qty: decimalString(m.qty[n]!, m.qtyDec[n]!),
      time: m.time[n]!,
      buyerMaker: m.buyerMaker[n] === 1,
    };
  }
  return out;
}

/** The trades as tardis-dev's normalized trades (float price and amount, as its mappers produce them). */
export function tardisTrades(m: Market): TardisTrade[] {
  const exchange = "binance" as TardisTrade["exchange"];
  const out = new Array<TardisTrade>(m.length);
  for (let n = 0; n < m.length; n++) {
    out[n] = {
      type: "trade",
      symbol: m.symbols[m.symbol[n]!]!,
      exchange,
      id: String(m.id[n]!),
      // Both correctly rounded from the same exact value, so equal to Number() of the decimal string.
      price: m.price[n]! / 10 ** m.priceDec[n]!,
      amount: m.qty[n]! / 10 ** m.qtyDec[n]!,
      side: m.buyerMaker[n] === 1 ? "sell" : "buy",
      timestamp: new Date(m.time[n]!),
      localTimestamp: new Date(m.time[n]!),
    };
  }
  return out;
}
