/**
 * Builders of kline messages for the writer's tests and benchmark (not used
 * by production code).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { KlineBatchSchema, KlineSchema, type Kline } from "../gen/klagg/v1/kline_pb.js";

/** A plain description of a kline; 64-bit fields as numbers. */
export interface KlineSpec {
  symbol?: string;
  interval?: string;
  openTime?: number;
  closeTime?: number;
  open?: string;
  high?: string;
  low?: string;
  close?: string;
  volume?: string;
  quoteVolume?: string;
  trades?: number;
  takerBuyVolume?: string;
  takerBuyQuoteVolume?: string;
  firstTradeId?: number;
  lastTradeId?: number;
  closed?: boolean;
  version?: number;
}

/**
 * The generated types hold 64-bit integers as bigint (or number, depending on
 * the generator's jstype support); this converts to whichever the field has.
 */
function i64(n: number, sample: unknown): never {
  return (typeof sample === "bigint" ? BigInt(n) : n) as never;
}

/** A valid 1m BTCUSDT kline at 2024-08-08 23:55 UTC, with `spec` overriding fields. */
export function kline(spec: KlineSpec = {}): Kline {
  const probe = create(KlineSchema).openTime;
  const openTime = spec.openTime ?? 1_723_161_300_000;
  return create(KlineSchema, {
    symbol: spec.symbol ?? "BTCUSDT",
    interval: spec.interval ?? "1m",
    openTime: i64(openTime, probe),
    closeTime: i64(spec.closeTime ?? openTime + 59_999, probe),
    open: spec.open ?? "61837.63000000",
    high: spec.high ?? "61900.00000000",
    low: spec.low ?? "61800.10000000",
    close: spec.close ?? "61850.00000000",
    volume: spec.volume ?? "1.50000000",
    quoteVolume: spec.quoteVolume ?? "92755.1234567890123456",
    trades: i64(spec.trades ?? 10, probe),
    takerBuyVolume: spec.takerBuyVolume ?? "0.50000000",
    takerBuyQuoteVolume: spec.takerBuyQuoteVolume ?? "30918.8150000000000000",
    firstTradeId: i64(spec.firstTradeId ?? 3_735_683_259, probe),
    lastTradeId: i64(spec.lastTradeId ?? 3_735_683_268, probe),
    closed: spec.closed ?? true,
    version: i64(spec.version ?? 1, probe),
  });
}

/** The encoded `KlineBatch` Kafka message value holding `klines`. */
export function batchBytes(klines: readonly Kline[], seq = 1): Uint8Array {
  const probe = create(KlineBatchSchema).seq;
  return toBinary(
    KlineBatchSchema,
    create(KlineBatchSchema, {
      aggregator: "test",
      seq: i64(seq, probe),
      producedAt: i64(1_723_161_360_000, probe),
      klines: [...klines],
    }),
  );
}
