import assert from "node:assert/strict";
import { test } from "node:test";
import { engineWith, ingestAll, kline, T0, trade } from "./engine.test-helper.js";

test("versions start at epoch * 1000 and grow with every kline change", () => {
  const e = engineWith({ epoch: 1_700_000_000_000, intervals: ["1m"] });
  assert.equal(e.version, 1_700_000_000_000_000);
  ingestAll(e, [trade(1, 100)]);
  const v1 = e.pull(e.epoch, 0);
  assert.equal(v1.klines[0]!.version, 1_700_000_000_000_001);
  assert.equal(v1.version, 1_700_000_000_000_001);
  ingestAll(e, [trade(2, 200)]);
  const v2 = e.pull(e.epoch, v1.version);
  assert.equal(v2.klines.length, 1);
  assert.ok(v2.klines[0]!.version > v1.klines[0]!.version);
});

test("a pull with the engine's epoch returns only klines changed after the acknowledged version", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(1, 100), trade(1, 100, "5.0", "1", { symbol: "ETHUSDT" })]);
  const a = e.pull(e.epoch, 0);
  assert.equal(a.full, false);
  assert.equal(a.klines.length, 2);
  assert.equal(e.pull(e.epoch, a.version).klines.length, 0);
  ingestAll(e, [trade(2, 300)]);
  const b = e.pull(e.epoch, a.version);
  assert.deepEqual(
    b.klines.map((k) => k.symbol),
    ["BTCUSDT"],
  );
});

test("closed klines are retained until a pull acknowledges their version, so a lost answer loses nothing", () => {
  const e = engineWith({ intervals: ["1m"], graceMs: 0 });
  ingestAll(e, [trade(1, 100), trade(2, 60_100)]);
  const lost = e.pull(e.epoch, 0); // this answer never reaches the caller
  const closed = kline(lost.klines, "1m", 0);
  assert.equal(closed.closed, true);
  const retry = e.pull(e.epoch, 0);
  assert.deepEqual(kline(retry.klines, "1m", 0), closed);
  assert.equal(e.stats().retainedClosed, 1);
  const acked = e.pull(e.epoch, retry.version);
  assert.equal(acked.klines.length, 0);
  assert.equal(e.stats().retainedClosed, 0); // acked and past grace: forgotten
});

test("closed klines still inside the grace period are kept after their ack so late trades can change them", () => {
  const e = engineWith({ intervals: ["1m"], graceMs: 5000 });
  ingestAll(e, [trade(1, 100), trade(3, 60_100)]);
  const a = e.pull(e.epoch, 0);
  e.pull(e.epoch, a.version);
  assert.equal(e.stats().retainedClosed, 1);
  ingestAll(e, [trade(2, 59_000, "50.00")]);
  const b = e.pull(e.epoch, a.version);
  assert.equal(kline(b.klines, "1m", 0).low, "50.00");
  ingestAll(e, [trade(4, 66_000)]); // grace of the first minute is over
  e.pull(e.epoch, e.pull(e.epoch, b.version).version);
  assert.equal(e.stats().retainedClosed, 0);
});

test("a pull with another epoch returns the full state: every open kline and every retained closed kline", () => {
  const e = engineWith({ intervals: ["1m"], graceMs: 0 });
  ingestAll(e, [trade(1, 100), trade(2, 60_100), trade(3, 180_100)]);
  const a = e.pull(e.epoch, 0);
  e.pull(e.epoch, a.version); // acks everything: closed ones are dropped
  ingestAll(e, [trade(4, 240_100)]);
  const full = e.pull(e.epoch + 1, a.version);
  assert.equal(full.full, true);
  assert.equal(full.epoch, e.epoch);
  const opens = full.klines.map((k) => [k.openTime - T0, k.closed]);
  assert.deepEqual(opens, [
    [240_000, false],
    [180_000, true],
  ]);
  // A foreign epoch acknowledges nothing: the closed kline is still held.
  assert.equal(e.pull(0, Number.MAX_SAFE_INTEGER).klines.length, 2);
});

test("the answer's version covers every kline in it and the caller can ack exactly that", () => {
  const e = engineWith();
  ingestAll(e, [trade(1, 100), trade(2, 1_100), trade(3, 2_100)]);
  const a = e.pull(e.epoch, 0);
  assert.ok(a.klines.every((k) => k.version <= a.version));
  assert.equal(Math.max(...a.klines.map((k) => k.version)), a.version);
  assert.equal(e.version, a.version);
});

test("a quiet symbol's klines still in grace do not hold back forgetting other acknowledged klines", () => {
  const e = engineWith({ intervals: ["1m"], graceMs: 5000 });
  ingestAll(e, [trade(1, 100), trade(2, 60_100)]); // BTC's first minute is closed but BTC's clock is in its grace
  ingestAll(e, [
    trade(1, 200, "5.0", "1", { symbol: "ETHUSDT" }),
    trade(2, 400_000, "5.0", "1", { symbol: "ETHUSDT" }), // ETH's minutes 0..5 close, grace long over
  ]);
  const a = e.pull(e.epoch, 0);
  assert.equal(e.stats().retainedClosed, 1 + 6);
  e.pull(e.epoch, a.version);
  assert.equal(e.stats().retainedClosed, 1);
});

test("a pull acknowledging less than a previous one still gets every change after its ack", () => {
  const e = engineWith({ intervals: ["1m"], graceMs: 60_000 });
  ingestAll(e, [trade(1, 100), trade(1, 200, "5.0", "1", { symbol: "ETHUSDT" })]);
  const a = e.pull(e.epoch, 0);
  ingestAll(e, [trade(2, 300)]);
  const b = e.pull(e.epoch, a.version);
  assert.equal(b.klines.length, 1);
  const again = e.pull(e.epoch, 0); // e.g. a caller that lost its state but kept the epoch
  assert.deepEqual(again.klines.map((k) => k.symbol).sort(), ["BTCUSDT", "ETHUSDT"]);
});

test("a pull acking less than it has applied gets only klines newer than since_version and keeps the unacked closed ones", () => {
  const e = engineWith({ intervals: ["1m"], graceMs: 0 });
  ingestAll(e, [trade(1, 100), trade(2, 60_100), trade(3, 120_100)]);
  const a = e.pull(e.epoch, 0); // minutes 0 and 1 closed, 2 open
  ingestAll(e, [trade(4, 180_100)]); // minute 2 closes, 3 opens
  const b = e.pull(e.epoch, 0, a.version); // ack nothing, applied a
  assert.deepEqual(
    b.klines.map((k) => [k.openTime - T0, k.closed]).sort((x, y) => Number(x[0]) - Number(y[0])),
    [
      [120_000, true],
      [180_000, false],
    ],
  );
  assert.equal(e.stats().retainedClosed, 3, "nothing acked: every closed kline is kept");
  const full = e.pull(0, 0);
  assert.equal(full.klines.filter((k) => k.closed).length, 3, "a new caller still gets them all");
  e.pull(e.epoch, b.version, b.version);
  assert.equal(e.stats().retainedClosed, 0);
});
