import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { PullChunkSchema } from "../gen/klagg/v1/worker_pb.js";
import { decodePullChunk, DecodeError } from "./pull-decoder.js";
import { encodePullChunk, type ChunkHead } from "./pull-encoder.js";
import { decodePullChunkRaw } from "./pull-raw-decoder.js";
import { RawKlineList } from "./raw-klines.js";
import { toProtoKline } from "./kline-proto.js";
import { randomRecords } from "./random-records.test-helper.js";

const HEAD: ChunkHead = {
  worker: "w-7",
  epoch: 1_780_000_000_000,
  version: 2 ** 52 + 3,
  full: true,
  sourceDone: true,
};
const utf8 = new TextDecoder();

test("each raw kline's bytes equal protobuf-es toBinary of the kline the full decoder returns", () => {
  const recs = randomRecords(400);
  const chunk = encodePullChunk(HEAD, true, 0, recs, 0, recs.length, ["A"]);
  const list = new RawKlineList(8);
  decodePullChunkRaw(chunk, list);
  const full = decodePullChunk(chunk).klines;
  assert.equal(list.count, full.length);
  for (let i = 0; i < list.count; i++) {
    const k = full[i]!;
    assert.deepEqual(new Uint8Array(list.bytes(i)), toBinary(KlineSchema, k), `kline ${i}`);
    assert.deepEqual(list.kline(i), fromBinary(KlineSchema, list.bytes(i)));
    const c = list.chunks[list.chunk[i]!]!;
    assert.equal(utf8.decode(c.subarray(list.symOff[i]!, list.symOff[i]! + list.symLen[i]!)), k.symbol);
    assert.equal(utf8.decode(c.subarray(list.ivOff[i]!, list.ivOff[i]! + list.ivLen[i]!)), k.interval);
    assert.equal(list.openTime[i], Number(k.openTime));
    assert.equal(list.version[i], Number(k.version));
    assert.equal(list.closed[i], k.closed ? 1 : 0);
  }
});

test("the chunk's answer fields equal what the full decoder reads", () => {
  const recs = randomRecords(3, 2);
  const chunk = encodePullChunk(HEAD, true, 5, recs, 0, 3, ["BTCUSDT", "", "币"]);
  const head = decodePullChunkRaw(chunk, new RawKlineList());
  const ref = decodePullChunk(chunk);
  assert.deepEqual(head, {
    worker: ref.worker,
    epoch: Number(ref.epoch),
    version: Number(ref.version),
    full: ref.full,
    last: ref.last,
    chunkIndex: ref.chunkIndex,
    symbols: ref.symbols,
    sourceDone: ref.sourceDone,
  });
});

test("several chunks append to one list, each kline pointing into its own chunk", () => {
  const recs = randomRecords(30, 3);
  const list = new RawKlineList(1);
  const a = encodePullChunk(HEAD, false, 0, recs, 0, 10, []);
  const b = encodePullChunk(HEAD, true, 1, recs, 10, 30, []);
  decodePullChunkRaw(a, list);
  decodePullChunkRaw(b, list);
  assert.equal(list.count, 30);
  assert.deepEqual(list.chunks, [a, b]);
  assert.equal(list.chunk[9], 0);
  assert.equal(list.chunk[10], 1);
  assert.deepEqual(list.decodeAll(), [...decodePullChunk(a).klines, ...decodePullChunk(b).klines]);
});

test("the raw bytes keep unknown fields of a newer schema and the keys are still found", () => {
  const k = toBinary(
    KlineSchema,
    create(KlineSchema, { ...toProtoKline(randomRecords(1, 9)[0]!), symbol: "ETHUSDT" }),
  );
  const kline = Buffer.concat([Buffer.from(k), Buffer.from([0xf0, 0x01, 0x05])]); // unknown field 30 = 5
  const chunk = Buffer.concat([
    Buffer.from([0x3a, (kline.length & 0x7f) | 0x80, kline.length >> 7]),
    kline,
    Buffer.from([0x28, 0x01]),
  ]);
  const list = new RawKlineList();
  const head = decodePullChunkRaw(chunk, list);
  assert.equal(head.last, true);
  assert.deepEqual(new Uint8Array(list.bytes(0)), new Uint8Array(kline));
  const c = list.chunks[0]!;
  assert.equal(utf8.decode(c.subarray(list.symOff[0]!, list.symOff[0]! + list.symLen[0]!)), "ETHUSDT");
});

test("symbol refs land on their own chunk's klines, and klines of a chunk without refs get -1", () => {
  const recs = randomRecords(30, 4);
  const list = new RawKlineList(1);
  const refs = Int32Array.from({ length: 20 }, (_, i) => 1000 - i * 37);
  decodePullChunkRaw(encodePullChunk(HEAD, false, 0, recs, 0, 10, []), list);
  decodePullChunkRaw(encodePullChunk(HEAD, true, 1, recs, 10, 30, [], refs), list);
  assert.deepEqual([...list.symRef.subarray(0, 10)], new Array<number>(10).fill(-1));
  assert.deepEqual([...list.symRef.subarray(10, 30)], [...refs]);
});

test("symbol refs before the klines, packed or one per field, are read like fromBinary reads them", () => {
  const recs = randomRecords(3, 6);
  const zero: ChunkHead = { worker: "", epoch: 0, version: 0, full: false, sourceDone: false };
  const klines = encodePullChunk(zero, true, 0, recs, 0, 3, []);
  const chunk = Buffer.concat([
    Buffer.from([0x52, 0x03, 0x02, 0x80, 0x01]),
    klines,
    Buffer.from([0x50, 0x09]),
  ]);
  const list = new RawKlineList();
  decodePullChunkRaw(chunk, list);
  assert.deepEqual([...list.symRef.subarray(0, 3)], [2, 128, 9]);
  assert.deepEqual(fromBinary(PullChunkSchema, chunk).symbolRefs, [2, 128, 9]);
});

test("a chunk whose symbol refs do not match its klines in number is a DecodeError", () => {
  const recs = randomRecords(3, 8);
  for (const refs of [Int32Array.of(1, 2), Int32Array.of(1, 2, 3, 4)]) {
    const bytes = encodePullChunk(HEAD, true, 0, recs, 0, 3, [], refs);
    assert.throws(
      () => decodePullChunkRaw(bytes, new RawKlineList()),
      new RegExp(`symbol_refs has ${refs.length} entries for 3 klines`),
    );
  }
  const truncated = Buffer.from([0x52, 0x05, 0x01]);
  assert.throws(() => decodePullChunkRaw(truncated, new RawKlineList()), DecodeError);
});

test("truncated or corrupt bytes are a DecodeError, like the full decoder's", () => {
  const bytes = encodePullChunk(HEAD, true, 0, randomRecords(3, 5), 0, 3, []);
  for (const cut of [6, Math.floor(bytes.length / 2), bytes.length - 1]) {
    assert.throws(
      () => decodePullChunkRaw(bytes.subarray(0, cut), new RawKlineList()),
      DecodeError,
      `cut ${cut}`,
    );
  }
  assert.throws(() => decodePullChunkRaw(Buffer.from([0x0b]), new RawKlineList()), /unsupported wire type 3/);
  // A kline whose symbol length runs past the kline's own end.
  const bad = Buffer.from([0x3a, 0x03, 0x0a, 0x05, 0x41]);
  assert.throws(() => decodePullChunkRaw(bad, new RawKlineList()), /truncated string/);
  // protobuf-es agrees these are not PullChunks.
  assert.throws(() => fromBinary(PullChunkSchema, bad));
});
