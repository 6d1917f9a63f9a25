import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { PullChunkSchema } from "../gen/klagg/v1/worker_pb.js";
import type { KlineRecord } from "../core/types.js";
import { estimateKlineBytes, fromProtoKline, planChunks, toProtoKline } from "./kline-proto.js";

const REC: KlineRecord = {
  symbol: "BTCUSDT",
  interval: "1m",
  openTime: 1_780_000_020_000,
  closeTime: 1_780_000_079_999,
  open: "61837.63000000",
  high: "61840.00000000",
  low: "61830.10000000",
  close: "61839.99000000",
  volume: "1.23400000",
  quoteVolume: "76305.1234567800000000",
  trades: 42,
  takerBuyVolume: "0.50000000",
  takerBuyQuoteVolume: "30918.8150000000000000",
  firstTradeId: 5_000_000_001,
  lastTradeId: 5_000_000_042,
  closed: true,
  version: 1_780_000_000_000_123,
};

test("toProtoKline encodes exactly like a message built with create()", () => {
  const viaCreate = create(KlineSchema, {
    ...REC,
    openTime: BigInt(REC.openTime),
    closeTime: BigInt(REC.closeTime),
    trades: BigInt(REC.trades),
    firstTradeId: BigInt(REC.firstTradeId),
    lastTradeId: BigInt(REC.lastTradeId),
    version: BigInt(REC.version),
  });
  assert.deepEqual(toBinary(KlineSchema, toProtoKline(REC)), toBinary(KlineSchema, viaCreate));
});

test("a record survives the wire round trip unchanged, including -1 trade ids", () => {
  const empty = { ...REC, trades: 0, firstTradeId: -1, lastTradeId: -1, closed: false };
  for (const r of [REC, empty]) {
    const back = fromProtoKline(fromBinary(KlineSchema, toBinary(KlineSchema, toProtoKline(r))));
    assert.deepEqual(back, r);
  }
});

test("fromProtoKline rejects an interval the core does not know", () => {
  assert.throws(
    () => fromProtoKline({ ...toProtoKline(REC), interval: "7m" }),
    /unknown kline interval "7m"/,
  );
});

test("the size estimate bounds the real encoded size inside a chunk, also for non-Latin symbols", () => {
  for (const r of [REC, { ...REC, symbol: "币安人生USDT", firstTradeId: -1, lastTradeId: -1 }]) {
    const one = toBinary(PullChunkSchema, create(PullChunkSchema, { klines: [toProtoKline(r)] })).length;
    const est = estimateKlineBytes(r);
    assert.ok(est >= one, `estimate ${est} < real ${one}`);
    assert.ok(est < one * 2, `estimate ${est} far above real ${one}`);
  }
});

test("planChunks bounds chunks by count and by bytes and always returns a last range", () => {
  const recs = Array.from({ length: 10 }, () => REC);
  assert.deepEqual(planChunks(recs, 4, 1e9), [
    [0, 4],
    [4, 8],
    [8, 10],
  ]);
  const size = estimateKlineBytes(REC);
  assert.deepEqual(planChunks(recs, 100, size * 3), [
    [0, 3],
    [3, 6],
    [6, 9],
    [9, 10],
  ]);
  assert.deepEqual(planChunks([], 4, 100), [[0, 0]]);
  assert.deepEqual(planChunks(recs.slice(0, 2), 4, 1), [
    [0, 1],
    [1, 2],
  ]);
});
