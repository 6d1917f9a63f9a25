/**
 * Helpers for the engine's tests: trades and engines with readable defaults.
 * (Test support only; not used by production code.)
 */
import type { EngineOptions, KlineEngine } from "./engine-api.js";
import { createEngine } from "./engine.js";
import type { Interval, KlineRecord, RawTrade } from "./types.js";

/** 2024-08-08T10:00:00Z, a Thursday. */
export const T0 = Date.parse("2024-08-08T10:00:00Z");

/** An engine for BTCUSDT and ETHUSDT with the given options over sensible defaults. */
export function engineWith(opts: Partial<EngineOptions> = {}): KlineEngine {
  return createEngine({
    symbols: ["BTCUSDT", "ETHUSDT"],
    intervals: ["1s", "1m", "5m"],
    epoch: 1_700_000_000_000,
    emptyKlines: true,
    graceMs: 2000,
    utcOffsetMinutes: 0,
    ...opts,
  });
}

/** A BTCUSDT trade `ms` after T0 with trade id `id`. */
export function trade(
  id: number,
  ms: number,
  price = "100.00",
  qty = "1.000",
  over: Partial<RawTrade> = {},
): RawTrade {
  return {
    symbol: "BTCUSDT",
    firstId: id,
    lastId: id,
    price,
    qty,
    time: T0 + ms,
    buyerMaker: false,
    ...over,
  };
}

/** Ingests trades, failing on any rejection. */
export function ingestAll(engine: KlineEngine, trades: RawTrade[]): void {
  for (const t of trades) {
    const r = engine.ingest(t);
    if (r !== undefined) throw new Error(`trade ${t.firstId} rejected: ${r}`);
  }
}

/** The kline of `interval` opening `ms` after T0 among `klines` (the last one when listed twice). */
export function kline(
  klines: readonly KlineRecord[],
  interval: Interval,
  ms: number,
  symbol = "BTCUSDT",
): KlineRecord {
  const found = klines.filter(
    (k) => k.interval === interval && k.openTime === T0 + ms && k.symbol === symbol,
  );
  const k = found[found.length - 1];
  if (k === undefined) throw new Error(`no ${symbol} ${interval} kline at T0+${ms}`);
  return k;
}

/** The full state of an engine (pull with a foreign epoch). */
export function fullState(engine: KlineEngine): readonly KlineRecord[] {
  return engine.pull(0, 0).klines;
}
