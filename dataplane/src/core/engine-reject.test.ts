import assert from "node:assert/strict";
import { test } from "node:test";
import { engineWith, fullState, ingestAll, kline, T0, trade } from "./engine.test-helper.js";
import type { RawTrade, RejectReason } from "./types.js";

function rejects(t: RawTrade, reason: RejectReason, setup: RawTrade[] = []): void {
  const e = engineWith();
  ingestAll(e, setup);
  assert.equal(e.ingest(t), reason, JSON.stringify(t));
  const stats = e.stats();
  assert.equal(stats.rejected[reason], 1);
  assert.equal(stats.tradesIn, setup.length + 1);
  if (setup.length === 0) assert.equal(fullState(e).length, 0);
}

test("a trade of a symbol the engine does not own is rejected as unknown_symbol", () => {
  rejects(trade(1, 0, "1.00", "1", { symbol: "DOGEUSDT" }), "unknown_symbol");
  rejects(trade(1, 0, "1.00", "1", { symbol: "btcusdt" }), "unknown_symbol");
});

test("trade times that are not integers, before 2000, from 2100 on or far ahead of the clock are absurd_timestamp", () => {
  rejects({ ...trade(1, 0), time: Number.NaN }, "absurd_timestamp");
  rejects({ ...trade(1, 0), time: T0 + 0.5 }, "absurd_timestamp");
  rejects({ ...trade(1, 0), time: 1_000 }, "absurd_timestamp");
  rejects({ ...trade(1, 0), time: Date.parse("2100-01-01T00:00:00Z") }, "absurd_timestamp");
  const e = engineWith();
  e.advanceTime(T0);
  assert.equal(e.ingest(trade(1, 11 * 60_000)), "absurd_timestamp");
  assert.equal(e.ingest(trade(1, 60_000)), undefined);
});

test("malformed or non-positive prices are bad_price", () => {
  for (const price of ["", "abc", "1e5", "-1.00", "1,00", " 1.00", "0.00", "0"])
    rejects(trade(1, 0, price), "bad_price");
  rejects({ ...trade(1, 0), price: 5 as unknown as string }, "bad_price");
});

test("malformed quantities are bad_quantity and zero or negative ones non_positive_quantity", () => {
  for (const qty of ["", "x", "1e-3", "1.2.3"]) rejects(trade(1, 0, "1.00", qty), "bad_quantity");
  rejects({ ...trade(1, 0), qty: undefined as unknown as string }, "bad_quantity");
  for (const qty of ["0", "0.000", "-1.000"]) rejects(trade(1, 0, "1.00", qty), "non_positive_quantity");
});

test("values that cannot be held exactly are out_of_range, never approximated", () => {
  rejects(trade(1, 0, "90071992547409930.0"), "out_of_range"); // digits beyond 2^53
  rejects(trade(1, 0, "1.0000000000001"), "out_of_range"); // 13 decimals
  rejects(trade(1, 0, "1.00", "1.0000000000001"), "out_of_range");
  // Fine alone, but scaled to the symbol's 8 decimals the price exceeds 2^53.
  rejects(trade(2, 0, "900719925474.0"), "out_of_range", [trade(1, 0, "1.00000000")]);
  // A single trade's quote beyond 2^80 units.
  rejects(trade(1, 0, "9007199254740991", "9007199254740991"), "out_of_range");
  rejects({ ...trade(1, 0), firstId: -1, lastId: -1 }, "out_of_range");
  rejects({ ...trade(1, 0), firstId: 5, lastId: 4 }, "out_of_range");
  rejects({ ...trade(1, 0), firstId: 1.5, lastId: 2 }, "out_of_range");
  rejects({ ...trade(1, 0), firstId: 2 ** 53, lastId: 2 ** 53 }, "out_of_range");
});

test("duplicates and trades beyond grace are rejected with their own reasons", () => {
  rejects(trade(1, 0), "duplicate", [trade(1, 0)]);
  rejects(trade(1, 0), "late_beyond_grace", [trade(2, 10_000)]);
});

test("a rejected trade leaves no trace in the klines", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(1, 0, "10.00", "1.000")]);
  for (const bad of [trade(2, 0, "x"), trade(3, 0, "1.00", "0"), trade(4, 0, "1.00", "1", { symbol: "X" })]) {
    assert.notEqual(e.ingest(bad), undefined);
  }
  const k = kline(fullState(e), "1m", 0);
  assert.equal(k.trades, 1);
  assert.equal(k.volume, "1.000");
  assert.equal(e.stats().gaps, 0);
});

test("a rejected trade does not change the decimals the symbol is printed with", () => {
  const e = engineWith({ intervals: ["1m"] });
  ingestAll(e, [trade(2, 70_000, "10.00", "1.000")]);
  assert.equal(e.ingest(trade(1, 100, "10.0000", "1.000000")), "late_beyond_grace");
  assert.equal(e.ingest(trade(2, 70_000, "10.0000", "1.000000")), "duplicate");
  const k = kline(fullState(e), "1m", 60_000);
  assert.equal(k.open, "10.00");
  assert.equal(k.volume, "1.000");
});
