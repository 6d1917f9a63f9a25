/**
 * The contract of the aggregation engine (implemented in `engine.ts`), used by
 * the worker's pull service, `klagg aggregate` and the benchmarks.
 */
import type { Interval, KlineRecord, RawTrade, RejectReason } from "./types.js";

/** Static engine settings, parsed from config before the engine exists. */
export interface EngineOptions {
  /** The symbols this engine owns; trades of other symbols are rejected as unknown_symbol. */
  readonly symbols: readonly string[];
  readonly intervals: readonly Interval[];
  /**
   * Identifies this engine's lifetime in the pull protocol; never reused: the
   * wall-clock start time in ms. Versions start at `epoch * 1000`, so a restarted
   * worker's versions are above everything the previous run produced (unless it
   * averaged more than 1000 kline changes per ms), which keeps "highest version
   * wins" (ClickHouse ReplacingMergeTree) right across restarts.
   */
  readonly epoch: number;
  /** Emit klines without trades (O=H=L=C=previous close, zero volume) like Binance. Default true. */
  readonly emptyKlines: boolean;
  /** How long after its close time a kline still accepts late trades, in ms. */
  readonly graceMs: number;
  /** UTC offset in minutes applied to 1d and longer intervals (Binance `timeZone`). Default 0. */
  readonly utcOffsetMinutes: number;
  /**
   * Most closed klines held for acknowledgement (one 176-byte row each). Beyond it the oldest is forgotten
   * even if unacknowledged, and counted (`closedDropped`): a bound on memory while the gateway cannot ack
   * (e.g. Kafka down), instead of growing until the process dies. Default: no bound.
   */
  readonly maxRetainedClosed?: number;
}

/** What a pull returns: the klines the caller has not acknowledged. */
export interface PullView {
  readonly epoch: number;
  /** The engine version this view is consistent with; the caller acks it. */
  readonly version: number;
  /** True when the caller's epoch did not match and this is the full state. */
  readonly full: boolean;
  readonly klines: readonly KlineRecord[];
}

/** What `pullRows` returns: the answer's head (its klines went to the visitor). */
export interface PullHead {
  readonly epoch: number;
  readonly version: number;
  readonly full: boolean;
  /** Klines handed to the visitor. */
  readonly count: number;
}

/**
 * Receives the klines of a pull answer as rows of the engine's tables, with no
 * object or string per kline: `d[b + F.Open]` etc. (kline-table.ts gives the
 * layout; prices are scaled integers with `priceDecimals` decimals, volumes
 * exact pairs with `qtyDecimals`, quote volumes pairs with both added). The
 * row is valid only during the call. `symbol` and `interval` index the
 * engine's `symbols` and `intervals`.
 */
export interface KlineRowVisitor {
  row(
    d: Float64Array,
    b: number,
    symbol: number,
    interval: number,
    closeTime: number,
    priceDecimals: number,
    qtyDecimals: number,
    closed: boolean,
  ): void;
}

/** Counters for metrics and reports. */
export interface EngineStats {
  readonly tradesIn: number;
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
  readonly lateAccepted: number;
  readonly gaps: number;
  readonly missingTradeIds: number;
  readonly openKlines: number;
  readonly retainedClosed: number;
  /** Closed klines forgotten unacknowledged because `maxRetainedClosed` was reached. */
  readonly closedDropped: number;
  /** Empty klines not emitted because a quiet stretch exceeded the engine's cap per step. */
  readonly emptyKlinesSkipped: number;
}

/** The aggregation engine of one worker: pure, single-threaded, clock passed in. */
export interface KlineEngine {
  readonly epoch: number;
  /** The engine's symbols, in the order `KlineRowVisitor` indexes them. */
  readonly symbols: readonly string[];
  /** The engine's intervals, shortest first, in the order `KlineRowVisitor` indexes them. */
  readonly intervals: readonly Interval[];
  /** Current version: increases with every kline change. */
  readonly version: number;
  /** Aggregates one trade; returns the rejection reason, or undefined when accepted. */
  ingest(trade: RawTrade): RejectReason | undefined;
  /**
   * Aggregates one trade already parsed to exact scaled integers (what `ingest` does after parsing the
   * decimal strings; sources that read numbers straight from the exchange's bytes call this): symbol index
   * `s` (see `symbolIndexOf`), time ms, price = price units at `priceDec` decimals (the digits without the
   * point: "61837.63" is 6183763 at 2), quantity likewise, trade ids first..last. Same checks and rejection
   * reasons as `ingest`.
   */
  ingestParsed(
    s: number,
    time: number,
    price: number,
    priceDec: number,
    qty: number,
    qtyDec: number,
    firstId: number,
    lastId: number,
    buyerMaker: boolean,
  ): RejectReason | undefined;
  /** The index of `symbol` for `ingestParsed`, or -1 when the engine does not aggregate it. */
  symbolIndexOf(symbol: string): number;
  /** Tells the engine the exchange time is at least `nowMs` (from the wall clock): closes quiet klines past close + grace. */
  advanceTime(nowMs: number): void;
  /** Changes after `ackVersion` (or the full state when `epoch` differs); drops retained closed klines with version <= ackVersion. */
  pull(epoch: number, ackVersion: number, sinceVersion?: number): PullView;
  /**
   * The same answer as `pull`, in the same order, handed to `visitor` row by row (what the worker's gRPC
   * answer encodes from: no KlineRecord objects, no decimal strings).
   */
  pullRows(epoch: number, ackVersion: number, visitor: KlineRowVisitor, sinceVersion?: number): PullHead;
  /** Closes every open kline (end of a replay). */
  closeAll(): void;
  stats(): EngineStats;
}
