/**
 * Conversion between the core's `KlineRecord` and the wire message
 * `klagg.v1.Kline`, plus the size estimate the pull service uses to keep every
 * chunk well under gRPC's 4 MiB message limit.
 *
 * protobuf-es v2 represents every 64-bit field as `bigint` (it honours only
 * `jstype = JS_STRING`), so times, ids and versions are converted here.
 */
import type { Kline } from "../gen/klagg/v1/kline_pb.js";
import { INTERVALS, type Interval, type KlineRecord } from "../core/types.js";

const INTERVAL_SET: ReadonlySet<string> = new Set(INTERVALS);

/**
 * The proto message for `k`. Built as a plain object literal (protobuf-es v2
 * messages are plain objects tagged with `$typeName`): several times cheaper
 * than `create(KlineSchema, ...)`, which walks the schema for every message.
 */
export function toProtoKline(k: KlineRecord): Kline {
  return {
    $typeName: "klagg.v1.Kline",
    symbol: k.symbol,
    interval: k.interval,
    openTime: BigInt(k.openTime),
    closeTime: BigInt(k.closeTime),
    open: k.open,
    high: k.high,
    low: k.low,
    close: k.close,
    volume: k.volume,
    quoteVolume: k.quoteVolume,
    trades: BigInt(k.trades),
    takerBuyVolume: k.takerBuyVolume,
    takerBuyQuoteVolume: k.takerBuyQuoteVolume,
    firstTradeId: BigInt(k.firstTradeId),
    lastTradeId: BigInt(k.lastTradeId),
    closed: k.closed,
    version: BigInt(k.version),
  };
}

/** The core record for a wire kline; throws on an interval name the core does not know. */
export function fromProtoKline(k: Kline): KlineRecord {
  if (!INTERVAL_SET.has(k.interval)) throw new RangeError(`unknown kline interval "${k.interval}"`);
  return {
    symbol: k.symbol,
    interval: k.interval as Interval,
    openTime: Number(k.openTime),
    closeTime: Number(k.closeTime),
    open: k.open,
    high: k.high,
    low: k.low,
    close: k.close,
    volume: k.volume,
    quoteVolume: k.quoteVolume,
    trades: Number(k.trades),
    takerBuyVolume: k.takerBuyVolume,
    takerBuyQuoteVolume: k.takerBuyQuoteVolume,
    firstTradeId: Number(k.firstTradeId),
    lastTradeId: Number(k.lastTradeId),
    closed: k.closed,
    version: Number(k.version),
  };
}

/**
 * Fixed per-kline overhead on the wire, an upper bound: the length prefix of
 * the embedded message (<= 3 bytes), 17 field tags (17 bytes), 6 varints of
 * up to 10 bytes (negative ids take 10), the version varint (<= 10), the bool
 * (1) and 11 string length prefixes (<= 2 bytes each for our lengths).
 */
const KLINE_OVERHEAD_BYTES = 3 + 17 + 6 * 10 + 10 + 1 + 11 * 2;

/**
 * An upper bound of the encoded size of `k` inside a PullChunk. Decimal
 * strings are ASCII, so their length is their byte size; the symbol may not
 * be (Binance lists some non-Latin symbols), so it counts 3 bytes per code unit.
 */
export function estimateKlineBytes(k: KlineRecord): number {
  return (
    KLINE_OVERHEAD_BYTES +
    3 * k.symbol.length +
    k.interval.length +
    k.open.length +
    k.high.length +
    k.low.length +
    k.close.length +
    k.volume.length +
    k.quoteVolume.length +
    k.takerBuyVolume.length +
    k.takerBuyQuoteVolume.length
  );
}

/**
 * Splits `klines` into consecutive [start, end) ranges of at most `maxCount`
 * klines and at most `maxBytes` estimated bytes each (a single kline larger
 * than `maxBytes` still gets its own chunk). Always returns at least one range,
 * possibly empty, because every answer needs a `last` chunk.
 */
export function planChunks(
  klines: readonly KlineRecord[],
  maxCount: number,
  maxBytes: number,
): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < klines.length; i++) {
    const size = estimateKlineBytes(klines[i]!);
    if (i > start && (i - start >= maxCount || bytes + size > maxBytes)) {
      ranges.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  ranges.push([start, klines.length]);
  return ranges;
}
