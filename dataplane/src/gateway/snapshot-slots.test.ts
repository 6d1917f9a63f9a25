import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { SnapshotSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { KLINES_TAG } from "./kline-codec.js";
import { taggedLen, varintLen, writePadding, writeVarintAs } from "./snapshot-slots.js";

const kline = create(KlineSchema, {
  symbol: "BTCUSDT",
  interval: "1m",
  openTime: 1_700_000_040_000n,
  closeTime: 1_700_000_099_999n,
  open: "61837.63000000",
  close: "61840.01000000",
  trades: 42n,
  version: 7n,
});

test("a kline whose length prefix is one byte longer than minimal, then padding, decodes to that kline", () => {
  const body = Buffer.from(toBinary(KlineSchema, kline));
  for (const widen of [false, true]) {
    for (const spare of [0, 2, 3, 130, 300]) {
      const vl = varintLen(body.length) + (widen ? 1 : 0);
      const buf = Buffer.alloc(1 + vl + body.length + spare);
      buf[0] = KLINES_TAG;
      const at = writeVarintAs(buf, 1, body.length, vl);
      body.copy(buf, at);
      if (spare > 0) writePadding(buf, at + body.length, spare);
      const snap = fromBinary(SnapshotSchema, buf);
      assert.equal(snap.klines.length, 1, `widen ${widen} spare ${spare}`);
      assert.deepEqual(toBinary(KlineSchema, snap.klines[0]!), new Uint8Array(body));
      assert.equal(taggedLen(body.length) + (widen ? 1 : 0) + spare, buf.length);
    }
  }
});

test("padding of any size from 2 bytes fills exactly that many bytes with one field of zeros", () => {
  for (const gap of [2, 3, 128, 129, 130, 131, 132, 16385, 16386, 16387, 16388, 20000]) {
    const buf = Buffer.alloc(gap, 0xee);
    writePadding(buf, 0, gap);
    const snap = fromBinary(SnapshotSchema, buf);
    assert.equal(snap.klines.length, 0);
    assert.ok(snap.padding.length >= gap - 4 && snap.padding.every((b) => b === 0), `gap ${gap}`);
  }
});
