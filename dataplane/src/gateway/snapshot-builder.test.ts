import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { KlineSchema } from "../gen/klagg/v1/kline_pb.js";
import { SnapshotSchema, SnapshotUpdateSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { GlobalState, StateLayout } from "./global-state.js";
import { ENTRY_CLOSED, ENTRY_EXTRA, SnapshotBuilder } from "./snapshot-builder.js";
import { makeKline } from "./fakes.test-helper.js";
import { canonical, referenceSnapshot } from "./snapshot-reference.test-helper.js";
import type { SnapshotLease } from "./ports.js";

const IVS = ["1s", "1m", "1h"] as const;
const T0 = 1_700_000_040_000;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const headroom of [0, 1, 3, 32]) {
  test(`incremental snapshots decode to exactly the state's content over many random ticks (slot headroom ${headroom})`, () => {
    const symbols = Array.from({ length: 40 }, (_, i) => `S${i}`);
    const st = new GlobalState(new StateLayout(symbols, [...IVS]));
    const b = new SnapshotBuilder(st, "t", 77, headroom);
    const r = rng(3 + headroom);
    let version = 1;
    const forward = new Uint8Array([1]);
    const held: { lease: SnapshotLease; bytes: Uint8Array; copy: Buffer; seq: number }[] = [];
    for (let tick = 1; tick <= 80; tick++) {
      const changes = Math.floor(r() * 30);
      for (let i = 0; i < changes; i++) {
        const sym = symbols[Math.floor(r() * symbols.length)]!;
        const iv = IVS[Math.floor(r() * IVS.length)]!;
        // Varying lengths so encodings grow and shrink: slots overflow, padding takes every size.
        const k = makeKline(
          sym,
          iv,
          T0 + Math.floor(r() * 3) * 60_000,
          "9".repeat(1 + Math.floor(r() * 140)),
          ++version,
        );
        k.closed = r() < 0.2;
        st.apply(k, 0, 0);
      }
      const changed = st.changedCount;
      const built = b.build(tick, T0 + tick, [], 0, forward);
      // Sometimes a reader holds a snapshot for a few ticks, so the double buffer is not free.
      if (r() < 0.2) {
        const snap = built.snapshot;
        held.push({ lease: snap.retain(), bytes: snap.bytes, copy: Buffer.from(snap.bytes), seq: tick });
      }
      if (held.length > 0 && r() < 0.3) {
        const h = held.shift()!;
        assert.deepEqual(Buffer.from(h.bytes), h.copy, `snapshot ${h.seq} unchanged while held`);
        h.lease.release();
      }
      assert.deepEqual(
        Buffer.from(canonical(built.snapshot.bytes)),
        Buffer.from(referenceSnapshot(st, tick, T0 + tick, 77)),
        `tick ${tick}`,
      );
      const upd = fromBinary(SnapshotUpdateSchema, built.snapshot.updateBytes);
      assert.equal(upd.klines.length, changed);
      assert.equal(upd.seq, BigInt(tick));
      assert.equal(built.entries.count, changed);
      st.endTick();
    }
    assert.ok(b.relayouts > 1, "slots outgrew their capacity and were relaid");
    assert.ok(b.fullCopies > 0, "held snapshots forced full copies");
    assert.ok(b.inPlace > 0, "ticks nobody held were patched in place");
    if (headroom >= 32) {
      assert.ok(b.relayouts + b.fullCopies < 60, "most ticks needed neither a relayout nor a full copy");
    }
  });
}

test("unchanged ticks patch only the header: the snapshot keeps its size and klines", () => {
  const st = new GlobalState(new StateLayout(["A", "B", "C"], ["1m", "1h"]));
  const b = new SnapshotBuilder(st, "t", 1);
  const forward = new Uint8Array([1]);
  st.apply(makeKline("A", "1m", T0, "1.0", 1), 0, 0);
  st.apply(makeKline("C", "1h", T0, "2.0", 2), 0, 0);
  const first = Buffer.from(b.build(1, 1, [], 0, forward).snapshot.bytes);
  st.endTick();
  for (let t = 2; t < 6; t++) {
    const s = b.build(t, t * 1000, [], 0, forward).snapshot;
    st.endTick();
    assert.equal(s.bytes.length, first.length);
    const d = fromBinary(SnapshotSchema, s.bytes);
    assert.equal(d.seq, BigInt(t));
    assert.equal(d.time, BigInt(t * 1000));
    assert.deepEqual(
      d.klines.map((k) => k.symbol + k.interval + k.close),
      ["A1m1.0", "C1h2.0"],
    );
  }
  assert.equal(b.relayouts, 1, "only the first build lays the slots out");
  assert.equal(b.inPlace, 4, "nobody held the snapshots: each was patched into the previous one's buffer");
  assert.equal(b.fullCopies, 0);
});

test("a snapshot held with a lease is never overwritten; released buffers are reused", () => {
  const st = new GlobalState(new StateLayout(["A", "B"], ["1m"]));
  const b = new SnapshotBuilder(st, "t", 1);
  const forward = new Uint8Array([1]);
  st.apply(makeKline("A", "1m", T0, "1.0", 1), 0, 0);
  const first = b.build(1, 1, [], 0, forward).snapshot;
  st.endTick();
  const lease = first.retain();
  const copy = Buffer.from(first.bytes);
  for (let t = 2; t < 8; t++) {
    st.apply(makeKline("B", "1m", T0, `${t}.0`, t), 0, 0);
    b.build(t, t, [], 0, forward);
    st.endTick();
  }
  assert.deepEqual(Buffer.from(first.bytes), copy, "held snapshot unchanged");
  const allocatedWhileHeld = b.buffersAllocated;
  lease.release();
  for (let t = 8; t < 20; t++) {
    st.apply(makeKline("B", "1m", T0, `${t}.0`, t), 0, 0);
    b.build(t, t, [], 0, forward);
    st.endTick();
  }
  assert.ok(b.buffersAllocated <= allocatedWhileHeld + 1, "steady state reuses buffers");
  assert.throws(() => {
    const s = b.build(20, 20, [], 0, forward).snapshot;
    st.endTick();
    b.build(21, 21, [], 0, forward);
    st.endTick();
    s.retain().release(); // still the builder's double buffer: valid for one more tick
    b.build(22, 22, [], 0, forward);
    st.endTick();
    s.retain();
  }, /already released/);
});

test("extras are in the update and the hand-off entries but not in the snapshot; refused workers are not forwarded", () => {
  const st = new GlobalState(new StateLayout(["A", "B"], ["1m"]));
  const b = new SnapshotBuilder(st, "t", 1);
  st.apply(makeKline("A", "1m", T0 + 60_000, "2.0", 5), 0, 0);
  st.apply(makeKline("B", "1m", T0, "3.0", 6), 1, 0);
  const old = makeKline("A", "1m", T0, "1.0", 4);
  old.closed = true;
  const built = b.build(1, 1, [{ kline: old, slot: 0, forward: true }], 1, new Uint8Array([1, 0]));
  const snap = fromBinary(SnapshotSchema, built.snapshot.bytes);
  assert.deepEqual(
    snap.klines.map((k) => k.symbol + k.close),
    ["A2.0", "B3.0"],
  );
  const upd = fromBinary(SnapshotUpdateSchema, built.snapshot.updateBytes);
  assert.deepEqual(
    upd.klines.map((k) => k.symbol + k.close),
    ["A2.0", "B3.0", "A1.0"],
  );
  const e = built.entries;
  assert.equal(e.count, 2, "worker 1 (B) is not forwarded");
  assert.equal(e.flags[1], ENTRY_CLOSED | ENTRY_EXTRA);
  const entryKline = fromBinary(KlineSchema, e.bytes.subarray(e.off[1]! + 2, e.off[1]! + e.len[1]!));
  assert.equal(entryKline.close, "1.0");
});

test("while a reader holds each newest snapshot, the double buffer catches up on the bytes the previous tick wrote", () => {
  const ivs = ["1s", "1m", "1h", "1d"] as const;
  const symbols = ["A", "B", "C"];
  const st = new GlobalState(new StateLayout(symbols, [...ivs]));
  // Headroom for the klines' growth (up to 19 bytes each, below): this test is about catching up, not relayouts.
  const b = new SnapshotBuilder(st, "t", 3, 20);
  const forward = new Uint8Array([1]);
  let version = 0;
  let lease: SnapshotLease | undefined;
  const r = rng(11);
  for (const s of symbols) for (const iv of ivs) st.apply(makeKline(s, iv, T0, "1.0", ++version), 0, 0);
  for (let tick = 1; tick <= 40; tick++) {
    // One or two klines of the same symbol per tick, with changing lengths: unchanged klines move.
    const s = symbols[Math.floor(r() * symbols.length)]!;
    for (let j = 0; j < 1 + Math.floor(r() * 2); j++) {
      const iv = ivs[Math.floor(r() * ivs.length)]!;
      st.apply(makeKline(s, iv, T0, "7".repeat(1 + Math.floor(r() * 20)), ++version), 0, 0);
    }
    const built = b.build(tick, T0, [], 0, forward);
    assert.deepEqual(
      Buffer.from(canonical(built.snapshot.bytes)),
      Buffer.from(referenceSnapshot(st, tick, T0, 3)),
      `tick ${tick}`,
    );
    st.endTick();
    lease?.release();
    lease = built.snapshot.retain();
  }
  assert.equal(b.inPlace, 0, "the newest snapshot was always held");
  assert.ok(b.fullCopies <= 2, "after the first ticks the double buffer was caught up, not copied");
});
