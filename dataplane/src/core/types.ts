/**
 * Shared value types of the kline core. Pure data: no I/O, no clocks.
 *
 * These are the contract between trade sources, the aggregation engine, the
 * worker's pull service and every consumer. `KlineRecord` mirrors the proto
 * message `klagg.v1.Kline` field by field (see proto/klagg/v1/kline.proto for
 * the decimal encoding rules).
 */

/** Binance kline interval names, shortest first. */
export const INTERVALS = [
  "1s",
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1M",
] as const;

/** One Binance kline interval name. */
export type Interval = (typeof INTERVALS)[number];

/**
 * One trade as it comes from any source, before exact parsing. A raw trade
 * (`@trade`) has firstId === lastId; an aggregated trade (`@aggTrade`, aggTrades
 * dumps) covers the trade ids firstId..lastId (count = lastId - firstId + 1).
 */
export interface RawTrade {
  readonly symbol: string;
  readonly firstId: number;
  readonly lastId: number;
  /** Decimal string exactly as the exchange sent it, e.g. "61837.63000000". */
  readonly price: string;
  /** Decimal string exactly as the exchange sent it, e.g. "0.02000000". */
  readonly qty: string;
  /** Exchange trade time, ms since epoch UTC. */
  readonly time: number;
  /** True when the buyer was the maker (so the taker sold). */
  readonly buyerMaker: boolean;
}

/** One kline in interchange form; identical to proto `klagg.v1.Kline`. */
export interface KlineRecord {
  symbol: string;
  interval: Interval;
  openTime: number;
  closeTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quoteVolume: string;
  trades: number;
  takerBuyVolume: string;
  takerBuyQuoteVolume: string;
  firstTradeId: number;
  lastTradeId: number;
  closed: boolean;
  version: number;
}

/** Why a trade was not aggregated; every rejection is counted under one of these. */
export type RejectReason =
  | "malformed_json"
  | "malformed_line"
  | "line_too_long"
  | "bad_price"
  | "bad_quantity"
  | "non_positive_quantity"
  | "out_of_range"
  | "unknown_symbol"
  | "absurd_timestamp"
  | "late_beyond_grace"
  | "duplicate";
