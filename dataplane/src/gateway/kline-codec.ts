/**
 * Hand-written encoders for the messages the gateway produces (`Kline`,
 * `Snapshot`, `SnapshotUpdate`, `KlineBatch`; see proto/klagg/v1). All three
 * envelopes carry their klines as `repeated Kline klines = 4`, so one kline's
 * encoding including its field-4 tag and length prefix (a "tagged kline") can
 * be cached once and copied into any of them.
 */
import type { ByteWriter } from "./byte-writer.js";
import type { WireKline } from "./ports.js";

/** Tag of `repeated Kline klines = 4` (wire type 2) in Snapshot, SnapshotUpdate and KlineBatch. */
export const KLINES_TAG = 0x22;

/** Field tags of klagg.v1.Kline as varint values: (field << 3) | wire type. */
const T = {
  symbol: 0x0a,
  interval: 0x12,
  openTime: 0x18,
  closeTime: 0x20,
  open: 0x2a,
  high: 0x32,
  low: 0x3a,
  close: 0x42,
  volume: 0x4a,
  quoteVolume: 0x52,
  trades: 0x58,
  takerBuyVolume: 0x62,
  takerBuyQuoteVolume: 0x6a,
  firstTradeId: 0x70,
  lastTradeId: 0x78,
  closed: 0x80, // field 16: two-byte tag 0x80 0x01
  version: 0x88, // field 17
} as const;

/**
 * Writes one tagged kline (field 4 tag, length, Kline body) from its field
 * values. Arguments rather than an object so the hot path allocates nothing.
 */
export function writeTaggedKline(
  w: ByteWriter,
  symbol: string,
  interval: string,
  openTime: number,
  closeTime: number,
  open: string,
  high: string,
  low: string,
  close: string,
  volume: string,
  quoteVolume: string,
  trades: number,
  takerBuyVolume: string,
  takerBuyQuoteVolume: string,
  firstTradeId: number,
  lastTradeId: number,
  closed: boolean,
  version: number,
): void {
  const mark = w.beginLengthDelimited(KLINES_TAG);
  w.stringField(T.symbol, symbol);
  w.stringField(T.interval, interval);
  w.int64Field(T.openTime, openTime);
  w.int64Field(T.closeTime, closeTime);
  w.stringField(T.open, open);
  w.stringField(T.high, high);
  w.stringField(T.low, low);
  w.stringField(T.close, close);
  w.stringField(T.volume, volume);
  w.stringField(T.quoteVolume, quoteVolume);
  w.int64Field(T.trades, trades);
  w.stringField(T.takerBuyVolume, takerBuyVolume);
  w.stringField(T.takerBuyQuoteVolume, takerBuyQuoteVolume);
  w.int64Field(T.firstTradeId, firstTradeId);
  w.int64Field(T.lastTradeId, lastTradeId);
  w.boolField(T.closed, closed);
  w.int64Field(T.version, version);
  w.endLengthDelimited(mark);
}

/** Writes one tagged kline from a wire kline (bigint or number fields). */
export function writeTaggedWireKline(w: ByteWriter, k: WireKline): void {
  writeTaggedKline(
    w,
    k.symbol,
    k.interval,
    Number(k.openTime),
    Number(k.closeTime),
    k.open,
    k.high,
    k.low,
    k.close,
    k.volume,
    k.quoteVolume,
    Number(k.trades),
    k.takerBuyVolume,
    k.takerBuyQuoteVolume,
    Number(k.firstTradeId),
    Number(k.lastTradeId),
    k.closed,
    Number(k.version),
  );
}

/**
 * Writes the fields before `klines` of a Snapshot or SnapshotUpdate
 * (aggregator = 1, seq = 2, time = 3); `writeEnvelopeTrailer` writes
 * gateway_epoch = 5 after the klines, keeping protobuf's field order.
 */
export function writeEnvelopeHeader(w: ByteWriter, aggregator: string, seq: number, time: number): void {
  w.stringField(0x0a, aggregator);
  w.int64Field(0x10, seq);
  w.int64Field(0x18, time);
}

/** gateway_epoch = 5 of Snapshot / SnapshotUpdate. */
export function writeEnvelopeTrailer(w: ByteWriter, gatewayEpoch: number): void {
  w.int64Field(0x28, gatewayEpoch);
}

/** The fields before `klines` of a KlineBatch: aggregator = 1, seq = 2, produced_at = 3. */
export function writeBatchHeader(w: ByteWriter, aggregator: string, seq: number, producedAt: number): void {
  writeEnvelopeHeader(w, aggregator, seq, producedAt);
}
