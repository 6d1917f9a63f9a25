import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineBatchSchema, KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { SnapshotSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { ByteWriter } from "./byte-writer.js";
import {
  writeBatchHeader,
  writeEnvelopeHeader,
  writeEnvelopeTrailer,
  writeTaggedWireKline,
} from "./kline-codec.js";

function kline(over: Partial<Record<string, unknown>> = {}) {
  return create(KlineSchema, {
    symbol: "BTCUSDT",
    interval: "1m",
    openTime: 1_700_000_040_000n,
    closeTime: 1_700_000_099_999n,
    open: "61837.63000000",
    high: "61840.00000000",
    low: "61800.01000000",
    close: "61811.11000000",
    volume: "12.34567000",
    quoteVolume: "763421.1234567812345678",
    trades: 1234n,
    takerBuyVolume: "6.00000000",
    takerBuyQuoteVolume: "371000.0000000000000000",
    firstTradeId: 3_000_000_000n,
    lastTradeId: 3_000_001_233n,
    closed: true,
    version: 1_700_000_000_000_123n,
    ...over,
  });
}

/** The KlineBatch encoding protobuf-es produces, as the reference. */
function reference(klines: ReturnType<typeof kline>[]): Uint8Array {
  return toBinary(
    KlineBatchSchema,
    create(KlineBatchSchema, { aggregator: "a", seq: 7n, producedAt: 99n, klines }),
  );
}

function handWritten(klines: ReturnType<typeof kline>[], initial = 64): Uint8Array {
  const w = new ByteWriter(initial);
  writeBatchHeader(w, "a", 7, 99);
  for (const k of klines) writeTaggedWireKline(w, k);
  return w.copy(0, w.pos);
}

test("a hand-written kline batch is byte-identical to protobuf-es output", () => {
  const ks = [kline(), kline({ interval: "1M", closed: false, trades: 0n, open: "" })];
  assert.deepEqual(handWritten(ks), reference(ks));
});

test("negative trade ids, non-ASCII symbols and long strings encode like protobuf-es", () => {
  const ks = [
    kline({ firstTradeId: -1n, lastTradeId: -1n, trades: 0n }),
    kline({ symbol: "币安人生USDT", quoteVolume: "9".repeat(300) + ".5" }),
    kline({ open: "1", high: "1", low: "1", close: "1", volume: "", quoteVolume: "", version: 1n }),
  ];
  assert.deepEqual(handWritten(ks, 8), reference(ks));
});

test("a kline body shorter than 128 bytes gets a one-byte length prefix", () => {
  const ks = [
    kline({ symbol: "A", open: "", high: "", low: "", close: "", quoteVolume: "", takerBuyQuoteVolume: "" }),
  ];
  const bytes = handWritten(ks);
  assert.deepEqual(bytes, reference(ks));
  const decoded = fromBinary(KlineBatchSchema, bytes);
  assert.equal(decoded.klines[0]?.symbol, "A");
});

test("snapshot envelopes decode with every field in place", () => {
  const w = new ByteWriter(16);
  writeEnvelopeHeader(w, "local", 42, 1_700_000_000_000);
  writeTaggedWireKline(w, kline());
  writeEnvelopeTrailer(w, 1_699_999_999_000);
  const snap = fromBinary(SnapshotSchema, w.copy(0, w.pos));
  assert.equal(snap.aggregator, "local");
  assert.equal(snap.seq, 42n);
  assert.equal(snap.time, 1_700_000_000_000n);
  assert.equal(snap.gatewayEpoch, 1_699_999_999_000n);
  assert.equal(snap.klines.length, 1);
  assert.equal(snap.klines[0]?.quoteVolume, "763421.1234567812345678");
});
