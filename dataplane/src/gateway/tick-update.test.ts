import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { SnapshotUpdateSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { GlobalState, StateLayout } from "./global-state.js";
import { SnapshotBuilder, type BuiltTick } from "./snapshot-builder.js";
import { makeKline, toRawResult } from "./fakes.test-helper.js";

const T0 = 1_700_000_040_000;

/** A builder whose every tick changes a few klines. */
function ticker() {
  const symbols = ["A", "B", "C", "D"];
  const st = new GlobalState(new StateLayout(symbols, ["1m", "1h"]));
  const b = new SnapshotBuilder(st, "t", 1);
  let seq = 0;
  return {
    b,
    next(): BuiltTick {
      seq++;
      for (const s of symbols) st.apply(makeKline(s, seq % 2 ? "1m" : "1h", T0, `${seq}.0`, seq), 0, 0);
      const built = b.build(seq, seq, [], 0, new Uint8Array([1]));
      st.endTick();
      return built;
    },
  };
}

test("update buffers are reused once the snapshot and the Kafka hand-off are done with them", () => {
  const t = ticker();
  for (let i = 0; i < 40; i++) t.next().entries.release();
  assert.ok(t.b.updateBuffersAllocated <= 3, `allocated ${t.b.updateBuffersAllocated}`);
});

test("update bytes held by the hand-off or by a snapshot reader are never rewritten", () => {
  const t = ticker();
  t.next().entries.release();
  const kafkaHeld = t.next();
  const kafkaCopy = Buffer.from(kafkaHeld.entries.bytes);
  const readerHeld = t.next();
  readerHeld.entries.release();
  const lease = readerHeld.snapshot.retain();
  const readerCopy = Buffer.from(readerHeld.snapshot.updateBytes);
  for (let i = 0; i < 20; i++) t.next().entries.release();
  assert.deepEqual(Buffer.from(kafkaHeld.entries.bytes), kafkaCopy);
  assert.deepEqual(Buffer.from(readerHeld.snapshot.updateBytes), readerCopy);
  assert.equal(fromBinary(SnapshotUpdateSchema, readerHeld.snapshot.updateBytes).seq, 3n);
  kafkaHeld.entries.release();
  lease.release();
  const before = t.b.updateBuffersAllocated;
  for (let i = 0; i < 20; i++) t.next().entries.release();
  assert.equal(t.b.updateBuffersAllocated, before, "released buffers went back to the pool");
});

test("the update bytes of an abandoned snapshot are never reused", () => {
  const t = ticker();
  const built = t.next();
  built.entries.release();
  built.snapshot.retain().abandon();
  const copy = Buffer.from(built.snapshot.updateBytes);
  for (let i = 0; i < 20; i++) t.next().entries.release();
  assert.deepEqual(Buffer.from(built.snapshot.updateBytes), copy);
});

test("a slot written from a kline object and then from raw bytes in one tick holds the raw kline only", () => {
  const st = new GlobalState(new StateLayout(["A"], ["1m"]));
  const k = makeKline("A", "1m", T0, "1.0", 1);
  k.closed = true;
  st.apply(k, 0, 0);
  const raw = toRawResult({
    worker: "w",
    epoch: 1,
    version: 2,
    full: false,
    sourceDone: false,
    symbols: [],
    klines: [makeKline("A", "1m", T0, "1.1", 2)],
  }).raw!;
  st.applyRaw(raw, 0, st.slotOfRaw(raw, 0), 1, 0);
  assert.equal(st.changedCount, 1);
  assert.equal(st.holdsKline(0, k), false, "the closed object kline is superseded: an extra to forward");
  assert.equal(st.holdsRaw(0, raw, 0), true);
  assert.equal(st.rawOf(0), raw);
  st.endTick();
  assert.equal(st.changedCount, 0);
});
