import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PullChunkSchema } from "../gen/klagg/v1/worker_pb.js";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import type { KlineRecord } from "../core/types.js";
import { decodePullChunk, DecodeError } from "./pull-decoder.js";
import { encodePullChunk, type ChunkHead } from "./pull-encoder.js";
import { toProtoKline } from "./kline-proto.js";
import { randomRecords } from "./random-records.test-helper.js";

function viaProtobufEs(
  head: ChunkHead,
  last: boolean,
  index: number,
  recs: KlineRecord[],
  symbols: string[],
  symbolRefs: number[] = [],
) {
  return create(PullChunkSchema, {
    worker: head.worker,
    epoch: BigInt(head.epoch),
    version: BigInt(head.version),
    full: head.full,
    last,
    chunkIndex: index,
    klines: recs.map(toProtoKline),
    symbols,
    sourceDone: head.sourceDone,
    symbolRefs,
  });
}

const HEAD: ChunkHead = {
  worker: "w-1",
  epoch: 1_780_000_000_000,
  version: 1_780_000_000_000_999,
  full: true,
  sourceDone: true,
};

test("encoding is byte-identical to protobuf-es toBinary, edge values included", () => {
  const recs = randomRecords(500);
  const symbols = ["BTCUSDT", "", "币安人生USDT"];
  const mine = encodePullChunk(HEAD, true, 3, recs, 0, recs.length, symbols);
  assert.deepEqual(
    new Uint8Array(mine),
    toBinary(PullChunkSchema, viaProtobufEs(HEAD, true, 3, recs, symbols)),
  );
  const zero: ChunkHead = { worker: "", epoch: 0, version: 0, full: false, sourceDone: false };
  const empty = encodePullChunk(zero, false, 0, [], 0, 0, []);
  assert.equal(empty.length, 0, "an all-default chunk encodes to nothing, like protobuf-es");
});

test("encoding a sub-range writes exactly those klines", () => {
  const recs = randomRecords(50, 7);
  const bytes = encodePullChunk(HEAD, false, 1, recs, 10, 20, []);
  assert.deepEqual(
    new Uint8Array(bytes),
    toBinary(PullChunkSchema, viaProtobufEs(HEAD, false, 1, recs.slice(10, 20), [])),
  );
});

test("decoding equals protobuf-es fromBinary", () => {
  const recs = randomRecords(500, 3);
  const bytes = toBinary(PullChunkSchema, viaProtobufEs(HEAD, true, 2, recs, ["A", "币"]));
  assert.deepEqual(decodePullChunk(bytes), fromBinary(PullChunkSchema, bytes));
});

test("symbol refs are encoded packed, byte-identical to protobuf-es, and decode like fromBinary", () => {
  const recs = randomRecords(40, 11);
  // Refs of one to three varint bytes.
  const refs = recs.map((_, i) => [0, 5, 127, 128, 300, 16_383, 16_384, 70_000][i % 8]!);
  const mine = encodePullChunk(HEAD, true, 0, recs, 0, recs.length, ["A"], Int32Array.from(refs));
  const ref = toBinary(PullChunkSchema, viaProtobufEs(HEAD, true, 0, recs, ["A"], refs));
  assert.deepEqual(new Uint8Array(mine), ref);
  const decoded = decodePullChunk(mine);
  assert.deepEqual(decoded, fromBinary(PullChunkSchema, ref));
  assert.deepEqual(decoded.symbolRefs, refs);
});

test("symbol refs written one varint per field (unpacked) decode like fromBinary", () => {
  const recs = randomRecords(2, 12);
  const zero: ChunkHead = { worker: "", epoch: 0, version: 0, full: false, sourceDone: false };
  const chunk = Buffer.concat([
    Buffer.from([0x50, 0x07]), // field 10, varint: before the klines, which protobuf allows
    encodePullChunk(zero, true, 0, recs, 0, 2, []),
    Buffer.from([0x50, 0x80, 0x01]),
  ]);
  const decoded = decodePullChunk(chunk);
  assert.deepEqual(decoded, fromBinary(PullChunkSchema, chunk));
  assert.deepEqual(decoded.symbolRefs, [7, 128]);
});

test("a chunk with symbol refs for some of its klines only is a DecodeError", () => {
  const recs = randomRecords(3, 13);
  const bytes = encodePullChunk(HEAD, true, 0, recs, 0, 3, [], Int32Array.of(1, 2));
  assert.throws(() => decodePullChunk(bytes), /symbol_refs has 2 entries for 3 klines/);
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  return [...out, n];
}

test("decoding skips unknown fields of a newer schema", () => {
  const k = toBinary(KlineSchema, toProtoKline(randomRecords(1, 9)[0]!));
  // Kline + unknown field 30 (varint) + unknown field 31 (bytes), inside a chunk with unknown field 20 (fixed64).
  const kline = Buffer.concat([
    Buffer.from(k),
    Buffer.from([0xf0, 0x01, 0x05, 0xfa, 0x01, 0x02, 0x61, 0x62]),
  ]);
  const chunk = Buffer.concat([
    Buffer.from([0x3a, ...varint(kline.length)]),
    kline,
    Buffer.from([0xa1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]),
    Buffer.from([0x28, 0x01]),
  ]);
  const mine = decodePullChunk(chunk);
  const ref = fromBinary(PullChunkSchema, chunk, { readUnknownFields: false });
  assert.deepEqual(mine, { ...ref, klines: ref.klines.map((x) => ({ ...x })) });
  assert.equal(mine.last, true);
  assert.equal(mine.klines.length, 1);
});

test("truncated or corrupt bytes are rejected with a DecodeError, never a partial chunk", () => {
  const bytes = encodePullChunk(HEAD, true, 0, randomRecords(3, 5), 0, 3, []);
  // (A cut exactly between two fields is a valid shorter message in protobuf; gRPC's length-prefixed frames
  // prevent that case on the wire, and the client still requires the `last` chunk.)
  for (const cut of [6, Math.floor(bytes.length / 2), bytes.length - 1]) {
    assert.throws(() => decodePullChunk(bytes.subarray(0, cut)), DecodeError, `cut at ${cut}`);
  }
  assert.throws(() => decodePullChunk(Buffer.from([0x0b])), /unsupported wire type 3/);
});
