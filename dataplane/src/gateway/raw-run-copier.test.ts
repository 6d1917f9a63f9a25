import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { SnapshotSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { encodePullChunk } from "../grpc/pull-encoder.js";
import { decodePullChunkRaw } from "../grpc/pull-raw-decoder.js";
import { RawKlineList } from "../grpc/raw-klines.js";
import { ByteWriter } from "./byte-writer.js";
import { RawRunCopier } from "./raw-run-copier.js";
import type { KlineRecord } from "../core/types.js";

const HEAD = { worker: "w", epoch: 1, version: 9, full: false, sourceDone: false };

function recs(n: number, longDecimals: boolean): KlineRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol: `S${i}USDT`,
    interval: "1m",
    openTime: 1_700_000_040_000,
    closeTime: 1_700_000_099_999,
    open: "1.5",
    high: "2.5",
    low: "0.5",
    close: `${i}.25`,
    volume: "3",
    // Long enough to push a kline past 127 bytes: a two-byte length prefix.
    quoteVolume: longDecimals ? "1".repeat(120) + ".5" : "4.5",
    trades: i,
    takerBuyVolume: "1",
    takerBuyQuoteVolume: "2",
    firstTradeId: 1,
    lastTradeId: i + 1,
    closed: i % 2 === 0,
    version: 10 + i,
  }));
}

test("back-to-back raw klines are copied in one run with their tags turned into Snapshot tags", () => {
  for (const long of [false, true]) {
    const rs = recs(5, long);
    const list = new RawKlineList();
    decodePullChunkRaw(encodePullChunk(HEAD, true, 0, rs, 0, rs.length, []), list);
    const w = new ByteWriter(16);
    const copier = new RawRunCopier();
    const offs: number[] = [];
    for (let i = 0; i < list.count; i++) {
      offs.push(copier.pos(w));
      assert.ok(copier.add(w, list, i) > 0);
    }
    assert.equal(w.pos, 0, "nothing written before the flush");
    copier.flush(w);
    const want = toBinary(SnapshotSchema, create(SnapshotSchema, { klines: list.decodeAll() }));
    assert.deepEqual(new Uint8Array(w.buf.subarray(0, w.pos)), want);
    assert.deepEqual(
      offs.map((o) => w.buf[o]),
      offs.map(() => 0x22),
    );
  }
});

test("klines whose bytes cannot be copied with their prefix are refused, for the caller to write", () => {
  const rs = recs(2, false);
  const chunk = encodePullChunk(HEAD, true, 0, rs, 0, rs.length, []);
  const plain = new RawKlineList();
  decodePullChunkRaw(new Uint8Array(chunk), plain);
  const w = new ByteWriter(16);
  assert.equal(new RawRunCopier().add(w, plain, 0), -1, "not a Buffer");
  // A non-minimal length prefix (0x80 | n, 0x00) is valid protobuf but not what the envelope carries.
  const body = toBinary(KlineSchema, plain.kline(0));
  const padded = Buffer.concat([Buffer.from([0x3a, 0x80 | body.length, 0x00]), body]);
  const list = new RawKlineList();
  decodePullChunkRaw(padded, list);
  assert.equal(list.count, 1);
  assert.equal(new RawRunCopier().add(w, list, 0), -1, "non-minimal length");
  assert.equal(w.pos, 0);
});
