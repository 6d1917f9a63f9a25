/**
 * Validation of one kline for the `klagg.klines` table and its encoding as a
 * TabSeparated line. Pure: no I/O, no clock.
 *
 * Why TabSeparated and not JSONEachRow: ClickHouse 18.16 parses Decimal and
 * DateTime from plain TSV text exactly and cheaply, whereas its JSONEachRow
 * reader is picky about quoted numbers; every value we send is validated here
 * so no field ever needs TSV escaping (no tab, newline or backslash can pass).
 */
import { INTERVALS, type Interval } from "../core/types.js";
import type { Kline } from "../gen/klagg/v1/kline_pb.js";

/** Integer digits that fit Decimal(38, 16): 38 - 16. */
export const DECIMAL_INT_DIGITS = 22;
/** Fraction digits of Decimal(38, 16): enough for spot quote volumes (price decimals + qty decimals). */
export const DECIMAL_SCALE = 16;

const DECIMAL_RE = new RegExp(`^\\d{1,${DECIMAL_INT_DIGITS}}(\\.\\d{1,${DECIMAL_SCALE}})?$`);
const SYMBOL_RE = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
const INTERVAL_SET: ReadonlySet<string> = new Set(INTERVALS);
/** DateTime is a UInt32 of seconds: the last representable open time. */
const MAX_DATETIME_MS = 4_294_967_295_000;

/** One validated row of `klagg.klines`; the coalescing key is (symbol, interval, openTime). */
export interface KlineRow {
  readonly key: string;
  readonly version: number;
  /**
   * The row as one TabSeparated line without the trailing newline. Rows of the wire decoder (kline-wire.ts) write
   * it each time it is read, so read it once per INSERT, not on the hot path.
   */
  readonly tsv: string;
  /** The close time (ms) when the kline is closed, for the close-to-readable latency; else undefined. */
  readonly closedAt: number | undefined;
}

/** Why a kline cannot be written; a message carrying one goes to the dead-letter topic. */
export type RowRejection =
  | "bad_symbol"
  | "bad_interval"
  | "bad_open_time"
  | "bad_close_time"
  | "bad_decimal"
  | "bad_integer"
  | "bad_version";

/** Result of {@link toRow}. */
export type RowResult = { ok: true; row: KlineRow } | { ok: false; reason: RowRejection; detail: string };

/** The column order of the TSV lines, which the INSERT statement names explicitly. */
export const KLINE_COLUMNS = [
  "symbol",
  "interval",
  "open_time",
  "close_time",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "quote_volume",
  "trades",
  "taker_buy_volume",
  "taker_buy_quote_volume",
  "first_trade_id",
  "last_trade_id",
  "closed",
  "version",
  "interval_id",
] as const;

/**
 * The sorting-key stand-in for `interval`: its index in INTERVALS (shortest
 * first). ClickHouse 18.16 stores `ORDER BY (symbol, interval, open_time)`
 * unquoted in its metadata and then cannot parse it back on restart
 * (`interval` is a keyword), so the key uses this one-to-one code instead.
 */
export function intervalId(interval: Interval): number {
  return INTERVAL_IDS.get(interval) ?? -1;
}

const INTERVAL_IDS: ReadonlyMap<string, number> = new Map(INTERVALS.map((i, n) => [i, n]));

/**
 * The generated proto types expose 64-bit fields as bigint or number depending
 * on the generator's jstype support; both are accepted and checked to be safe
 * integers (NaN when not).
 */
export function safeInt(v: number | bigint): number {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : NaN;
  }
  return Number.isSafeInteger(v) ? v : NaN;
}

function isUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** "2024-08-08 23:55:00" for a whole-second UTC instant (ClickHouse DateTime text, column time zone UTC). */
export function formatDateTime(ms: number): string {
  const cached = dateTimeCache.get(ms);
  if (cached !== undefined) return cached;
  const iso = new Date(ms).toISOString(); // 2024-08-08T23:55:00.000Z
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  // Rows of one flush share few open times; a small cache saves a Date per row on the hot path.
  if (dateTimeCache.size >= 4096) dateTimeCache.clear();
  dateTimeCache.set(ms, text);
  return text;
}

const dateTimeCache = new Map<number, string>();

/**
 * The coalescing key of a kline: the first three columns of its TSV line (symbol, interval, open time as
 * DateTime text, one-to-one with whole-second open times), so the wire decoder can cut it from the line it writes.
 */
export function rowKey(symbol: string, interval: string, openTime: number): string {
  return `${symbol}\t${interval}\t${formatDateTime(openTime)}`;
}

/** Validates one kline and encodes it as a row, or says exactly why it cannot be written. */
export function toRow(k: Kline): RowResult {
  if (!SYMBOL_RE.test(k.symbol)) return reject("bad_symbol", `symbol ${JSON.stringify(k.symbol)}`);
  if (!INTERVAL_SET.has(k.interval)) return reject("bad_interval", `interval ${JSON.stringify(k.interval)}`);
  const interval = k.interval as Interval;
  const openTime = safeInt(k.openTime);
  const closeTime = safeInt(k.closeTime);
  const trades = safeInt(k.trades);
  const firstTradeId = safeInt(k.firstTradeId);
  const lastTradeId = safeInt(k.lastTradeId);
  const version = safeInt(k.version);
  // Every interval is a whole number of seconds, so DateTime holds the open time exactly.
  if (!isUint(openTime) || openTime % 1000 !== 0 || openTime > MAX_DATETIME_MS) {
    return reject("bad_open_time", `open_time ${openTime}`);
  }
  if (!isUint(closeTime) || closeTime <= openTime) {
    return reject("bad_close_time", `close_time ${closeTime}`);
  }
  const bad = firstBadDecimal(k);
  if (bad !== undefined) return reject("bad_decimal", `decimal ${JSON.stringify(bad)}`);
  if (!isUint(trades)) return reject("bad_integer", `trades ${trades}`);
  if (!Number.isSafeInteger(firstTradeId) || firstTradeId < -1) {
    return reject("bad_integer", `first_trade_id ${firstTradeId}`);
  }
  if (!Number.isSafeInteger(lastTradeId) || lastTradeId < -1) {
    return reject("bad_integer", `last_trade_id ${lastTradeId}`);
  }
  if (!isUint(version)) return reject("bad_version", `version ${version}`);
  const tsv =
    `${k.symbol}\t${interval}\t${formatDateTime(openTime)}\t${closeTime}\t${k.open}\t${k.high}\t${k.low}\t` +
    `${k.close}\t${k.volume}\t${k.quoteVolume}\t${trades}\t${k.takerBuyVolume}\t${k.takerBuyQuoteVolume}\t` +
    `${firstTradeId}\t${lastTradeId}\t${k.closed ? 1 : 0}\t${version}\t${intervalId(interval)}`;
  return {
    ok: true,
    row: {
      key: rowKey(k.symbol, interval, openTime),
      version,
      tsv,
      closedAt: k.closed ? closeTime : undefined,
    },
  };
}

function firstBadDecimal(k: Kline): string | undefined {
  for (const d of [
    k.open,
    k.high,
    k.low,
    k.close,
    k.volume,
    k.quoteVolume,
    k.takerBuyVolume,
    k.takerBuyQuoteVolume,
  ]) {
    if (!DECIMAL_RE.test(d)) return d;
  }
  return undefined;
}

function reject(reason: RowRejection, detail: string): RowResult {
  return { ok: false, reason, detail };
}
