import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { SnapshotUpdateSchema } from "../gen/klagg/v1/snapshot_pb.js";
import { SnapshotState } from "./snapshot-state.js";
import { FakePublisher, kline } from "../../test/support/snapshot-fixtures.js";

const T0 = 1_723_161_300_000;

test("an update before any full snapshot asks for a read", () => {
  const st = new SnapshotState();
  const pub = new FakePublisher();
  assert.equal(st.apply(pub.tick([kline("BTCUSDT", "1m", T0, "1")]).update), "no_base");
  assert.equal(st.snapshot(), undefined);
});

test("consecutive updates are merged into the state and match the publisher's snapshot", () => {
  const st = new SnapshotState();
  const pub = new FakePublisher();
  st.reset(pub.tick([kline("BTCUSDT", "1m", T0, "1"), kline("ETHUSDT", "1m", T0, "2")]).snapshot);
  const t2 = pub.tick([kline("BTCUSDT", "1m", T0, "3")]);
  assert.equal(st.apply(t2.update), "applied");
  const t3 = pub.tick([
    kline("BTCUSDT", "1m", T0, "3", { closed: true }),
    kline("BTCUSDT", "1m", T0 + 60_000, "4"),
  ]);
  assert.equal(st.apply(t3.update), "applied");
  const snap = st.snapshot();
  assert.equal(snap?.seq, 3n);
  const got = snap?.klines.map((k) => `${k.symbol} ${k.openTime} ${k.close}`);
  assert.deepEqual(got, [`BTCUSDT ${T0 + 60_000} 4`, `ETHUSDT ${T0} 2`]);
});

test("a skipped seq is reported as a gap and leaves the state unchanged", () => {
  const st = new SnapshotState();
  const pub = new FakePublisher();
  st.reset(pub.tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot);
  pub.tick([kline("BTCUSDT", "1m", T0, "2")]);
  const before = st.snapshot();
  assert.equal(st.apply(pub.tick([kline("BTCUSDT", "1m", T0, "3")]).update), "gap");
  assert.equal(st.snapshot(), before);
  assert.equal(st.seq, 1n);
});

test("an old or repeated update is stale and ignored", () => {
  const st = new SnapshotState();
  const pub = new FakePublisher();
  const t1 = pub.tick([kline("BTCUSDT", "1m", T0, "1")]);
  st.reset(pub.tick([kline("BTCUSDT", "1m", T0, "2")]).snapshot);
  assert.equal(st.apply(t1.update), "stale");
  assert.equal(st.snapshot()?.klines[0]?.close, "2");
});

test("an update of another gateway epoch asks for a read", () => {
  const st = new SnapshotState();
  st.reset(new FakePublisher("a", 1n).tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot);
  const other = new FakePublisher("a", 2n);
  other.tick([]);
  assert.equal(st.apply(other.tick([kline("BTCUSDT", "1m", T0, "9")]).update), "epoch");
});

test("per-pair retention follows the deepest pair of the last full snapshot", () => {
  const st = new SnapshotState();
  const pub = new FakePublisher();
  const base = pub.tick([kline("BTCUSDT", "1m", T0, "1")]).snapshot;
  // A gateway keeping the previous closed kline too: two per pair.
  base.klines.push(kline("BTCUSDT", "1m", T0 - 60_000, "0", { closed: true }));
  st.reset(base);
  const u = create(SnapshotUpdateSchema, {
    aggregator: "test",
    seq: 2n,
    gatewayEpoch: 1n,
    klines: [kline("BTCUSDT", "1m", T0, "1", { closed: true }), kline("BTCUSDT", "1m", T0 + 60_000, "5")],
  });
  assert.equal(st.apply(u), "applied");
  assert.deepEqual(
    st.snapshot()?.klines.map((k) => Number(k.openTime) - T0),
    [0, 60_000],
  );
});

test("the snapshot is ordered by symbol, interval length and open time", () => {
  const st = new SnapshotState();
  const pub = new FakePublisher();
  st.reset(
    pub.tick([
      kline("ETHUSDT", "1m", T0, "1"),
      kline("BTCUSDT", "1h", T0, "1"),
      kline("BTCUSDT", "3m", T0, "1"),
      kline("BTCUSDT", "1s", T0, "1"),
    ]).snapshot,
  );
  pub.tick([]);
  st.apply(pub.tick([]).update); // a gap: ignored, state keeps its base order
  const snap = st.snapshot();
  assert.ok(snap);
  // reset() keeps the gateway's order; a materialized state sorts.
  const st2 = new SnapshotState();
  const pub2 = new FakePublisher();
  st2.reset(pub2.tick([]).snapshot);
  st2.apply(pub2.tick(snap.klines).update);
  assert.deepEqual(
    st2.snapshot()?.klines.map((k) => `${k.symbol} ${k.interval}`),
    ["BTCUSDT 1s", "BTCUSDT 3m", "BTCUSDT 1h", "ETHUSDT 1m"],
  );
});
